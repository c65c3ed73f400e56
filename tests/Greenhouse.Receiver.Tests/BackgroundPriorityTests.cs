using Greenhouse.Receiver.Threading;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Greenhouse.Receiver.Tests;

public sealed class BackgroundPriorityTests
{
    [Fact]
    public void Lowering_changes_the_calling_thread_only()
    {
        var before = BackgroundPriority.Current();
        int? lowered = null, other = null;
        var thread = new Thread(() =>
        {
            Assert.True(BackgroundPriority.Lower());
            lowered = BackgroundPriority.Current();
        });
        thread.Start();
        thread.Join();
        other = BackgroundPriority.Current();
        Assert.Equal(Math.Max(BackgroundPriority.Nice, before!.Value), lowered);
        Assert.Equal(before, other);
    }

    [Fact]
    public async Task The_processor_yields_to_the_request_path_and_request_threads_keep_their_priority()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var process = BackgroundPriority.Current()!.Value;
        Assert.True(process < BackgroundPriority.Nice, $"the test runs at nice {process}: nothing to lower");
        // Deliveries in parallel, processed while they come: the thread pool grows while the processor works.
        var sends = Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await receiver.SendAsync(ProcessorHarness.Update(9_000 + i, $"p{i}@example.com"), $"prio-{i}");
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        });
        await Task.WhenAll(sends);
        await EventuallyAsync(() => receiver.Services.GetRequiredService<Greenhouse.Receiver.Mirror.CandidateMirror>().Count >= 200 ? "" : null);

        // The threads are named; Linux shows the first 15 characters in /proc/<pid>/task/<tid>/comm.
        var threads = ThreadNiceValues();
        // This receiver's processor has loaded its mirror and applied 200 events: it runs at nice 10. Other
        // tests' receivers may run in this process at the same time, and a processor still loading its
        // mirror keeps the process's priority (start-up is what /readyz waits for), so only ours is sure.
        Assert.Contains(threads, t => t.Name == "event-processor" && t.Nice == BackgroundPriority.Nice);
        // The threads every answer waits for keep the process's priority in every receiver, thread-pool
        // workers included (a worker inherits the nice value of the thread that started it).
        foreach (var name in new[] { ".NET TP Worker", "webhook-inbox-i", "webhook-inbox-f", "webhook-inbox-w" })
        {
            Assert.All(threads.Where(t => t.Name == name), t => Assert.Equal(process, t.Nice));
        }
        Assert.Contains(threads, t => t.Name == ".NET TP Worker");
    }

    private static List<(string Name, int Nice)> ThreadNiceValues()
    {
        var values = new List<(string, int)>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                // Fields after the name start with the third (state); nice is the nineteenth.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                values.Add((name, int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return values;
    }

    private static async Task<T> EventuallyAsync<T>(Func<T?> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(50);
        }
    }
}
