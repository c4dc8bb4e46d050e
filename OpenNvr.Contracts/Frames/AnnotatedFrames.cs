namespace OpenNvr.Contracts.Frames;

/// <summary>
/// Stores annotated images (<see cref="FrameNames.AnnotatedFile"/>) in a camera's frame folder, beside the frames they
/// were drawn on, so that the URI a task returns resolves exactly like the frame's own. One rule for both writers:
/// Inference when the frames folder is its own disk (single host), the Recorder when Inference sends the image over
/// HTTP (<c>PUT /frames/{camera}/{file}</c>, Inference on another host).
/// <para>Bounded: after each write at most <c>keep</c> annotated images remain in the folder, the newest by name (the
/// name starts with the time it was made), so that a client asking for annotation on every frame cannot fill the disk.
/// Written to a temporary file and renamed, so a reader never sees half an image; a name that exists already is never
/// overwritten (<see cref="IOException"/>).</para>
/// </summary>
public static class AnnotatedFrames
{
    /// <summary>The default of <c>Frames:MaxAnnotatedPerCamera</c> on both writers.</summary>
    public const int DefaultKeep = 50;

    /// <summary>Writes <paramref name="jpeg"/> as <paramref name="folder"/>/<paramref name="file"/> and removes all but the newest <paramref name="keep"/>; returns how many were removed.</summary>
    public static int Store(string folder, string file, ReadOnlySpan<byte> jpeg, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        if (!FrameNames.IsAnnotatedFile(file))
        {
            throw new ArgumentException($"'{file}' is not an annotated image's name.", nameof(file));
        }

        var target = Path.Combine(folder, file);
        var temp = Path.Combine(folder, $".{file}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(jpeg);
            }

            File.Move(temp, target, overwrite: false);
        }
        finally
        {
            File.Delete(temp); // nothing left behind when the write or the rename failed (no-op after a rename)
        }

        return Prune(folder, keep);
    }

    /// <summary>Removes all but the newest <paramref name="keep"/> annotated images of <paramref name="folder"/>; returns how many were removed.</summary>
    public static int Prune(string folder, int keep)
    {
        var annotated = Directory.EnumerateFiles(folder, FrameNames.AnnotatedPrefix + "*.jpg")
            .Select(Path.GetFileName)
            .Where(FrameNames.IsAnnotatedFile)
            .Order(StringComparer.Ordinal)
            .ToList();
        var removed = 0;
        foreach (var old in annotated.Take(Math.Max(0, annotated.Count - keep)))
        {
            try
            {
                File.Delete(Path.Combine(folder, old!));
                removed++;
            }
            catch (IOException)
            {
                // A concurrent writer pruned it first (or a reader on another OS holds it): the next write tries again.
            }
        }

        return removed;
    }
}
