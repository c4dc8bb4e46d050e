namespace OpenNvr.Bench;

/// <summary>
/// A bench's temp folder, removed when disposed. Declare it before the hosts it holds (<c>using var work = ...</c>
/// first): disposal runs in reverse order, so the services stop writing into it before it is removed — deleting it
/// while they still ran left a folder behind.
/// </summary>
public sealed class BenchWorkFolder(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process still closing a file: the folder is in the machine's temp, the OS clears it.
        }
    }
}
