using System.Net;

namespace Sandbox.Kubelet;

/// <summary>
/// Pod IPs from the loopback network, from a first address upwards (127.0.0.2 by default; 127.0.0.1
/// stays the host's), the lowest free one first so freed addresses are reused. Linux routes all of
/// 127.0.0.0/8 to loopback. Addresses ending in .0 or .255 are skipped.
/// </summary>
internal sealed class PodAddressPool
{
    private const int Last = (1 << 24) - 2;
    private readonly SortedSet<int> free = [];
    private readonly HashSet<int> used = [];
    private int next;

    public PodAddressPool(IPAddress first)
    {
        var bytes = first.GetAddressBytes();
        if (bytes.Length != 4 || bytes[0] != 127 || (bytes[1] | bytes[2] | bytes[3]) == 0)
        {
            throw new ArgumentException($"the first pod address must be in 127.0.0.0/8 and not 127.0.0.0 (got {first})", nameof(first));
        }

        next = Index(bytes);
    }

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
            return new IPAddress([127, (byte)(index >> 16), (byte)(index >> 8), (byte)index]);
        }
    }

    public void Release(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var index = Index(address.GetAddressBytes());
        lock (free)
        {
            if (used.Remove(index))
            {
                free.Add(index);
            }
        }
    }

    private static int Index(byte[] bytes) => (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
}
