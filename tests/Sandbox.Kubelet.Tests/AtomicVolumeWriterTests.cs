using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Kubelet.Tests;

public sealed class AtomicVolumeWriterTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "atomic-writer-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static ProjectedFile File(string path, string content) => new(path, System.Text.Encoding.UTF8.GetBytes(content), (UnixFileMode)0x1A4);

    [Fact]
    public void Files_are_reached_through_the_data_link_into_a_timestamped_folder_and_only_changes_are_written()
    {
        var writer = new AtomicVolumeWriter(directory, new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 9, 40, 1, TimeSpan.Zero)));

        Assert.True(writer.Write([File("a", "1"), File("nested/b", "2")]));

        var target = new FileInfo(Path.Combine(directory, "..data")).LinkTarget!;
        Assert.Matches(@"^\.\.2026_11_29_09_40_01\.\d{9}$", target);
        Assert.Equal(Path.Combine("..data", "a"), new FileInfo(Path.Combine(directory, "a")).LinkTarget);
        Assert.Equal(Path.Combine("..data", "nested"), new DirectoryInfo(Path.Combine(directory, "nested")).LinkTarget);
        Assert.Equal("2", System.IO.File.ReadAllText(Path.Combine(directory, "nested", "b")));
        Assert.False(writer.Write([File("nested/b", "2"), File("a", "1")]));
        Assert.Equal(target, new FileInfo(Path.Combine(directory, "..data")).LinkTarget);
    }

    [Fact]
    public void An_update_swaps_the_data_link_removes_dropped_keys_and_the_old_folder()
    {
        var writer = new AtomicVolumeWriter(directory, TimeProvider.System);
        writer.Write([File("a", "1"), File("b", "2")]);
        var first = new FileInfo(Path.Combine(directory, "..data")).LinkTarget!;

        Assert.True(writer.Write([File("a", "one")]));

        Assert.NotEqual(first, new FileInfo(Path.Combine(directory, "..data")).LinkTarget);
        Assert.Equal("one", System.IO.File.ReadAllText(Path.Combine(directory, "a")));
        Assert.False(System.IO.File.Exists(Path.Combine(directory, "b")));
        Assert.False(Directory.Exists(Path.Combine(directory, first)));
        Assert.False(System.IO.File.Exists(Path.Combine(directory, "..data_tmp")));
    }
}
