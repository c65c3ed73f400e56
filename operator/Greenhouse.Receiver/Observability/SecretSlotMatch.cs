namespace Greenhouse.Receiver.Observability;

public enum SecretSlotMatch
{
    None = 0,
    Current = 1,
    Previous = 2,
}
