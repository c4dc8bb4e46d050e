namespace OpenNvr.AppHost;

/// <summary>The two databases of OpenNVR and what a service must wait for before it may open them.</summary>
internal sealed record NvrDatabases(
    string Mode,
    IResourceBuilder<IResourceWithConnectionString> NvrDb,
    IResourceBuilder<IResourceWithConnectionString> InferenceDb,
    IResourceBuilder<IResource>? Server)
{
    public IResourceBuilder<IResource>? WaitTarget(IResourceBuilder<IResourceWithConnectionString> database) =>
        Mode == PostgresModes.Container ? database : Server;
}
