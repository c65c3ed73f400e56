using System.Diagnostics;

namespace Greenhouse.Receiver.Tests.Support;

internal static class TempFolders
{
    public static void Delete(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }
        if (Environment.UserName == "root")
        {
            // A test may have made a folder immutable (the only way to make it unwritable for root).
            using var chattr = Process.Start(new ProcessStartInfo("chattr", ["-R", "-i", path]) { RedirectStandardError = true });
            chattr?.WaitForExit(5000);
        }
        Directory.Delete(path, recursive: true);
    }
}
