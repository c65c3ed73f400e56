using System.Net;
using System.Net.Sockets;

namespace Greenhouse.Receiver.Tests.Support;

internal static class FreePort
{
    // The kernel may hand a port just closed out again: a receiver asked for three ports in a row
    // once got the same one twice. No port is given twice in this process.
    private static readonly HashSet<int> Given = [];

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Given)
            {
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
