using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Options bound from a configuration section and validated when the host starts, never clamped where they are used:
/// a bad setting stops the service with a message naming its key (e.g. <c>Recorder:ChunkSeconds</c>).
/// </summary>
public static class OptionsValidationExtensions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="section"/> and checks its data annotations (and
    /// <see cref="IValidatableObject"/>) at start-up, reporting each failure under its configuration key.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new ConfigurationKeyValidator<TOptions>(section));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>
    /// What <c>ValidateDataAnnotations()</c> does, with messages that name the configuration key rather than the
    /// CLR member: an operator fixes <c>Recorder__ChunkSeconds</c>, not "RecorderOptions.ChunkSeconds".
    /// </summary>
    private sealed class ConfigurationKeyValidator<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            {
                return ValidateOptionsResult.Success;
            }

            return ValidateOptionsResult.Fail(results.Select(r =>
            {
                var keys = r.MemberNames.Any() ? string.Join(", ", r.MemberNames.Select(m => $"{section}:{m}")) : section;
                return $"{keys}: {r.ErrorMessage}";
            }));
        }
    }
}
