using System.Globalization;
using System.Text;
using Sandbox.KubeApi;

namespace Sandbox;

/// <summary>
/// In <c>sandbox run --rbac</c>: prints each permission RBAC refused the operator as it happens (the permission the
/// chart lacks, also those admission checks, such as update on greenhouseintegrations/finalizers), and keeps <see cref="FileName"/> in the state folder up to date with every permission the
/// operator used (verb, API group, resource, requests, refused). Does nothing when the operator runs as the admin.
/// </summary>
internal sealed class OperatorPermissions : IAsyncDisposable
{
    public const string FileName = "operator-permissions.tsv";

    private readonly RequestLog _log;
    private readonly string? _user;
    private readonly string _path;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _seen;

    public OperatorPermissions(RequestLog log, string? user, string path)
    {
        _log = log;
        _user = user;
        _path = path;
        _loop = user is null ? Task.CompletedTask : Task.Run(LoopAsync);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_user is not null)
        {
            Report();
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Report();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Report()
    {
        var entries = _log.Snapshot();
        for (var i = Math.Min(_seen, entries.Count); i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.User != _user || e.Authorization is not { } a)
            {
                continue;
            }

            var refused = e.AdmissionChecks.Where(c => !c.Allowed).Select(c => c.Attributes);
            foreach (var denied in e.Authorized ? refused : refused.Prepend(a))
            {
                var scope = denied.Namespace.Length > 0 ? $"in namespace {denied.Namespace}" : "cluster-wide";
                Console.Error.WriteLine($"sandbox: RBAC refused the operator: {denied.Verb} {denied.ResourceWithSubresource} in API group \"{denied.ApiGroup}\" {scope} ({e.Method} {e.Path})");
            }
        }

        _seen = entries.Count;
        var text = new StringBuilder("verb\tapiGroup\tresource\trequests\trefused\n");
        foreach (var p in _log.PermissionsUsedBy(_user!))
        {
            text.Append(CultureInfo.InvariantCulture, $"{p.Verb}\t{p.ApiGroup}\t{p.Resource}\t{p.Requests}\t{p.Denied}\n");
        }

        File.WriteAllText(_path, text.ToString());
    }
}
