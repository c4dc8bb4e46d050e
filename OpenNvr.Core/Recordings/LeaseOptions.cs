using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Recordings;

/// <summary>The <c>Internal</c> section: the recorder lease length and how cameras are shared between Recorders.</summary>
public sealed class LeaseOptions : IValidatableObject
{
    public const string Section = "Internal";

    /// <summary>A lease lapses when its holder has not sent a heartbeat for this long (Recorders beat every 5 s).</summary>
    [Range(1, 604_800)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>
    /// Relative shares of the cameras by Recorder id (<c>Internal:RecorderWeights:&lt;id&gt;</c>); a Recorder not listed
    /// weighs 1, so by default every live Recorder holds the same number of cameras (give or take one).
    /// </summary>
    public Dictionary<string, double> RecorderWeights { get; set; } = new(StringComparer.Ordinal);

    public double WeightOf(string recorderId) => RecorderWeights.GetValueOrDefault(recorderId, 1.0);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (id, weight) in RecorderWeights)
        {
            if (!double.IsFinite(weight) || weight <= 0 || weight > 1000)
            {
                yield return new ValidationResult($"Internal:RecorderWeights:{id} must be a number above 0 and at most 1000 (it is {weight}).",
                    [nameof(RecorderWeights)]);
            }
        }
    }
}
