namespace Greenhouse.Receiver.Webhooks;

public enum SecretSlotMatch
{
    None = 0,
    Current = 1,
    Previous = 2,
}
