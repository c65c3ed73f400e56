namespace Greenhouse.Receiver.Mirror;

/// <summary>A normalised e-mail or profile URL, e.g. <c>email:jane@example.com</c> or <c>url:linkedin.com/in/jane</c>.</summary>
public readonly record struct LookupKey(LookupKeyKind Kind, string Value)
{
    public override string ToString() => (Kind == LookupKeyKind.Email ? "email:" : "url:") + Value;
}
