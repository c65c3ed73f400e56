namespace Greenhouse.Receiver.Api.Auth;

/// <summary>The ServiceAccount a verified token was issued to.</summary>
public sealed record ServiceAccountIdentity(string Namespace, string Name)
{
    /// <summary>The Kubernetes user name, as audit lines name the caller.</summary>
    public override string ToString() => $"system:serviceaccount:{Namespace}:{Name}";
}
