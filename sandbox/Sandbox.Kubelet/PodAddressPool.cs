using System.Net;

namespace Sandbox.Kubelet;

/// <summary>
/// Pod IPs from the loopback network: 127.0.0.2 upwards (127.0.0.1 stays the host's), the lowest
/// free address first so freed addresses are reused. Linux routes all of 127.0.0.0/8 to loopback.
/// </summary>
internal sealed class PodAddressPool
{
    private const int First = 2;
    private const int Last = (1 << 24) - 2;
    private readonly SortedSet<int> free = [];
    private readonly HashSet<int> used = [];
    private int next = First;

    public IPAddress Allocate()
    {
        lock (free)
        {
            int index;
            if (free.Count > 0)
            {
                index = free.Min;
                free.Remove(index);
            }
            else
            {
                // Skip x.y.z.0 and x.y.z.255: some tools treat them as network or broadcast addresses.
                while ((next & 0xFF) is 0 or 0xFF)
                {
                    next++;
                }

                if (next > Last)
                {
                    throw new InvalidOperationException("no free pod address left in 127.0.0.0/8");
                }

                index = next++;
            }

            used.Add(index);
            return ToAddress(index);
        }
    }

    public void Release(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        var index = (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
        lock (free)
        {
            if (used.Remove(index))
            {
                free.Add(index);
            }
        }
    }

    private static IPAddress ToAddress(int index) =>
        new([127, (byte)(index >> 16), (byte)(index >> 8), (byte)index]);
}
