using System.Globalization;
using Microsoft.Net.Http.Headers;
using OpenNvr.Core.Telemetry;
using OpenNvr.Storage;

namespace OpenNvr.Core.Recordings;

/// <summary>
/// A stored object (chunk, snapshot) as an HTTP answer with range support, read from the recording store with one
/// ranged read of exactly the bytes asked for: 200 with the whole object, 206 with <c>Content-Range</c> for a single
/// <c>Range: bytes=a-b</c> (also <c>a-</c> and the suffix <c>-n</c>), 416 with <c>Content-Range: bytes */size</c> when
/// the range lies past the end. Several ranges in one request get the whole object (as ASP.NET's file results do).
/// <c>ETag</c> is the object's MD5 when the store keeps one; <c>If-Range</c> with another tag gets the whole object.
/// </summary>
public sealed class StoredMediaResult(IRecordingStore store, StoredObject stored, string contentType) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => null; // 200, 206 or 416: decided by the request

    public string ContentType => contentType;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        var response = httpContext.Response;
        var etag = stored.ContentMd5 is { } md5 ? new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(md5) + "\"") : null;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.LastModified = stored.LastModified.ToString("R", CultureInfo.InvariantCulture);
        if (etag is not null)
        {
            response.Headers.ETag = etag.ToString();
        }

        var (offset, length) = (0L, stored.Size);
        var ranged = request.Headers.Range.Count > 0 && IfRangeHolds(request, etag);
        if (ranged && RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var header) &&
            header.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase) && header.Ranges.Count == 1)
        {
            var range = header.Ranges.First();
            if (Resolve(range.From, range.To, stored.Size) is not { } resolved)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{stored.Size.ToString(CultureInfo.InvariantCulture)}";
                return;
            }

            (offset, length) = resolved;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{stored.Size}");
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
        }

        response.ContentType = contentType;
        response.ContentLength = length;
        if (HttpMethods.IsHead(request.Method) || length == 0)
        {
            return;
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("media.serve");
        activity?.SetTag("opennvr.storage.key", stored.Key);
        activity?.SetTag("http.response.body.size", length);
        var ct = httpContext.RequestAborted;
        await using var content = await store.OpenReadAsync(stored.Key, offset, length, ct)
            ?? throw new FileNotFoundException($"{stored.Key} left the store while it was being served.");
        await content.CopyToAsync(response.Body, 64 * 1024, ct);
    }

    /// <summary>A single range resolved against the size: (offset, length), or null when it is not satisfiable.</summary>
    public static (long Offset, long Length)? Resolve(long? from, long? to, long size)
    {
        if (from is null)
        {
            // Suffix range: the last n bytes.
            return to is > 0 && size > 0 ? (Math.Max(0, size - to.Value), Math.Min(to.Value, size)) : null;
        }

        if (from.Value >= size)
        {
            return null;
        }

        var last = to is { } end ? Math.Min(end, size - 1) : size - 1;
        return last < from.Value ? null : (from.Value, last - from.Value + 1);
    }

    private static bool IfRangeHolds(HttpRequest request, EntityTagHeaderValue? etag)
    {
        var ifRange = request.Headers.IfRange.ToString();
        if (string.IsNullOrEmpty(ifRange))
        {
            return true;
        }

        return etag is not null && EntityTagHeaderValue.TryParse(ifRange, out var wanted) && wanted.Compare(etag, useStrongComparison: true);
    }
}
