namespace Greenhouse.Receiver.Mirror;

public enum LookupKeyKind
{
    Email = 1,
    ProfileUrl = 2,
}
