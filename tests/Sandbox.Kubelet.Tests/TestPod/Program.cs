using System.Net;
using System.Text;

// A container for the kubelet tests. --listen=http://ADDRESS:PORT/ (the kubelet rewrites 0.0.0.0 to
// the pod IP). GET /readyz, /pid, /args, /env/NAME, /read/NAME (the file whose path is in env NAME),
// /write/NAME?text=T (writes T to that file), /exit/CODE (exits at once).
var listen = args.FirstOrDefault(a => a.StartsWith("--listen=", StringComparison.Ordinal))?["--listen=".Length..]
    ?? throw new ArgumentException("--listen=http://ADDRESS:PORT/ is required");
using var listener = new HttpListener();
listener.Prefixes.Add(listen.EndsWith('/') ? listen : listen + "/");
listener.Start();
Console.WriteLine($"test pod {Environment.ProcessId} listening on {listen}");

while (true)
{
    var context = await listener.GetContextAsync();
    var segments = context.Request.Url!.AbsolutePath.Trim('/').Split('/', 2);
    var argument = segments.Length > 1 ? Uri.UnescapeDataString(segments[1]) : "";
    var (status, body) = segments[0] switch
    {
        "readyz" => (200, "ok"),
        "pid" => (200, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        "args" => (200, string.Join('\n', args)),
        "env" => Environment.GetEnvironmentVariable(argument) is { } value ? (200, value) : (404, "unset"),
        "read" => Environment.GetEnvironmentVariable(argument) is { } path && File.Exists(path) ? (200, File.ReadAllText(path)) : (404, "no file"),
        "write" => Write(argument, context.Request.QueryString["text"] ?? ""),
        "exit" => Exit(argument),
        _ => (404, "unknown"),
    };
    context.Response.StatusCode = status;
    var bytes = Encoding.UTF8.GetBytes(body);
    await context.Response.OutputStream.WriteAsync(bytes);
    context.Response.Close();
}

static (int, string) Write(string variable, string text)
{
    var path = Environment.GetEnvironmentVariable(variable) ?? throw new InvalidOperationException(variable + " is unset");
    File.WriteAllText(path, text);
    return (200, "written");
}

static (int, string) Exit(string code)
{
    Environment.Exit(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture));
    return (500, "unreachable");
}
