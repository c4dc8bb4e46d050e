namespace OpenNvr.Tests.Infrastructure;

public static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries that holds OpenNvr.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string TestData(params string[] parts) => Path.Combine([Root, "testdata", .. parts]);

    public static string Models(params string[] parts) => Path.Combine([Root, "models", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenNvr.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"OpenNvr.sln not found above {AppContext.BaseDirectory}.");
    }
}
