namespace Greenhouse.Receiver.Api.Auth;

/// <summary>
/// What <see cref="ServiceAccountTokenValidator"/> found: the identity, or why the token was refused
/// (never echoing the token), or that the issuer's keys could not be fetched (<see cref="Unavailable"/>).
/// </summary>
public sealed record TokenCheck(ServiceAccountIdentity? Identity, string? Problem, bool Unavailable = false)
{
    public static TokenCheck Refused(string problem) => new(null, problem);
}
