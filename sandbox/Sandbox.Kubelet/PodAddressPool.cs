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

    /// <summary>
    /// The lowest free address for which <paramref name="usable"/> holds (e.g. its ports can be bound:
    /// another sandbox on the machine may hold some addresses). Skipped addresses stay free.
    /// </summary>
    public IPAddress Allocate(Func<IPAddress, bool>? usable = null)
    {
        lock (free)
        {
            var skipped = new List<int>();
            try
            {
                while (true)
                {
                    var index = Take();
                    var address = new IPAddress([127, (byte)(index >> 16), (byte)(index >> 8), (byte)index]);
                    if (usable is null || usable(address))
                    {
                        used.Add(index);
                        return address;
                    }

                    skipped.Add(index);
                }
            }
            finally
            {
                free.UnionWith(skipped);
            }
        }
    }

    private int Take()
    {
        if (free.Count > 0)
        {
            var index = free.Min;
            free.Remove(index);
            return index;
        }

        while ((next & 0xFF) is 0 or 0xFF)
        {
            next++;
        }

        return next <= Last ? next++ : throw new InvalidOperationException("no free pod address left in 127.0.0.0/8");
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
