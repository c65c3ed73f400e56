using Greenhouse.Receiver.Threading;
using Greenhouse.Receiver.Tests.Support;

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
        Assert.Equal(BackgroundPriority.Nice, lowered);
        Assert.Equal(before, other);
        Assert.NotEqual(BackgroundPriority.Nice, other);
    }

    [Fact]
    public async Task The_processor_and_database_threads_yield_to_the_request_path()
    {
        await using var receiver = await TestReceiver.StartAsync();
        // The threads are named; Linux shows the first 15 characters in /proc/<pid>/task/<tid>/comm.
        var nice = await EventuallyAsync(() =>
        {
            var threads = ThreadNiceValues();
            return threads.ContainsKey("event-processor") ? threads : null;
        });
        Assert.Equal(BackgroundPriority.Nice, nice["event-processor"]);
        Assert.Equal(BackgroundPriority.Nice, nice["webhook-inbox-w"]);
        // The threads every answer waits for keep the process's priority.
        Assert.Equal(0, nice["webhook-inbox-i"]);
        Assert.Equal(0, nice["webhook-inbox-f"]);
    }

    private static Dictionary<string, int> ThreadNiceValues()
    {
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                // Fields after the name start with the third (state); nice is the nineteenth.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                values[name] = int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
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
            Assert.True(DateTime.UtcNow < deadline, "the processor thread did not start");
            await Task.Delay(50);
        }
    }
}
