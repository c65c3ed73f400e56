using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

// A container for the kubelet tests. --listen=http://ADDRESS:PORT/ (the kubelet rewrites 0.0.0.0 to
// the pod IP). GET /readyz, /pid, /args, /env/NAME, /read/NAME (the file whose path is in env NAME),
// /write/NAME?text=T (writes T to that file), /exit/CODE (exits at once).
// A bare TcpListener, not HttpListener: HttpListener on Linux can crash when a connection (the
// kubelet's readiness probe) arrives while it starts.
var listen = new Uri(args.FirstOrDefault(a => a.StartsWith("--listen=", StringComparison.Ordinal))?["--listen=".Length..]
    ?? throw new ArgumentException("--listen=http://ADDRESS:PORT/ is required"));
var listener = new TcpListener(IPAddress.Parse(listen.Host), listen.Port);
listener.Start();
Console.WriteLine($"test pod {Environment.ProcessId} listening on {listen}");

while (true)
{
    using var client = await listener.AcceptTcpClientAsync();
    try
    {
        await using var stream = client.GetStream();
        var target = await ReadTargetAsync(stream);
        var (status, body) = Answer(target, args);
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {(status == 200 ? "OK" : "Not Found")}\r\nContent-Type: text/plain\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(head);
        await stream.WriteAsync(bytes);
    }
    catch (IOException)
    {
        // The client went away (a probe that timed out): serve the next one.
    }
}

static async Task<Uri> ReadTargetAsync(NetworkStream stream)
{
    var request = new StringBuilder();
    var buffer = new byte[1024];
    while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
    {
        var read = await stream.ReadAsync(buffer);
        if (read == 0)
        {
            throw new IOException("connection closed before the request ended");
        }

        request.Append(Encoding.ASCII.GetString(buffer, 0, read));
    }

    return new Uri(new Uri("http://pod/"), request.ToString().Split(' ')[1]);
}

static (int Status, string Body) Answer(Uri target, string[] args)
{
    var segments = target.AbsolutePath.Trim('/').Split('/', 2);
    var argument = segments.Length > 1 ? Uri.UnescapeDataString(segments[1]) : "";
    var query = target.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
    return segments[0] switch
    {
        "readyz" => (200, "ok"),
        "pid" => (200, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
        "args" => (200, string.Join('\n', args)),
        "env" => Environment.GetEnvironmentVariable(argument) is { } value ? (200, value) : (404, "unset"),
        "read" => Environment.GetEnvironmentVariable(argument) is { } path && File.Exists(path) ? (200, File.ReadAllText(path)) : (404, "no file"),
        "write" => Environment.GetEnvironmentVariable(argument) is { } file ? Write(file, query.GetValueOrDefault("text", "")) : (404, "unset"),
        "exit" => Exit(argument),
        _ => (404, "unknown"),
    };
}

static (int, string) Write(string path, string text)
{
    File.WriteAllText(path, text);
    return (200, "written");
}

static (int, string) Exit(string code)
{
    Environment.Exit(int.Parse(code, CultureInfo.InvariantCulture));
    return (500, "unreachable");
}
