using System.Text.Json;

namespace OpenNvr.Contracts.Inference;

/// <summary>
/// <c>POST /faces/register</c>: the frame must show exactly one face; <c>category</c> defaults to <c>unknown</c>;
/// <c>replace</c> replaces an identity's embeddings instead of adding one.
/// </summary>
public sealed record FaceRegisterRequest(
    FrameInput Frame,
    string PersonId,
    string Name,
    string? Category = null,
    JsonElement? Metadata = null,
    bool? Replace = null);

public sealed record FaceRegisterResponse(bool Success, string PersonId, string Name, string Category, int EmbeddingCount, string Outcome);

public sealed record FaceListItem(string PersonId, string Name, string Category);

/// <summary><c>GET /faces/list?category=</c>.</summary>
public sealed record FaceListResponse(IReadOnlyList<FaceListItem> Faces, int TotalCount);

/// <summary><c>GET /faces/{person_id}</c>: times are Unix milliseconds.</summary>
public sealed record FaceIdentityResponse(string PersonId, string Name, string Category, JsonElement? Metadata, int EmbeddingCount, long CreatedAt, long UpdatedAt);

/// <summary><c>DELETE /faces/{person_id}</c>.</summary>
public sealed record FaceDeleteResponse(bool Success, string PersonId);

/// <summary>The person id rule of the face registry: 1-64 characters of <c>A-Z a-z 0-9 _ -</c>.</summary>
public static partial class PersonIds
{
    public const string Rule = "1 to 64 letters, digits, '_' or '-'";

    public static bool IsValid(string? personId) => personId is not null && Pattern().IsMatch(personId);

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial System.Text.RegularExpressions.Regex Pattern();
}
