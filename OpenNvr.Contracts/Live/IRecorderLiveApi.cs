using Refit;

namespace OpenNvr.Contracts.Live;

/// <summary>
/// The Recorder's live HTTP routes, called by Core at the base URL of the replica that holds the camera's lease (the
/// console's WebSocket is relayed separately: Refit does not speak WebSocket). Answers come back as they are (any
/// status, body not yet read) so that Core relays media without buffering it and maps the Recorder's problems to its
/// own. <c>X-Internal-Key</c> is added by the shared-key handler.
/// </summary>
public interface IRecorderLiveApi
{
    [Get("/live/{camera}/status")]
    Task<HttpResponseMessage> GetStatusAsync(int camera, CancellationToken cancellationToken);

    /// <summary>
    /// A live playlist (<c>index.m3u8</c>, with the LL-HLS blocking-reload hints when given), init segment, segment or part.
    /// </summary>
    [Get("/live/{camera}/{stream}/{file}")]
    Task<HttpResponseMessage> GetMediaAsync(int camera, string stream, string file,
        [AliasAs("_HLS_msn")] long? msn, [AliasAs("_HLS_part")] int? part, CancellationToken cancellationToken);
}
