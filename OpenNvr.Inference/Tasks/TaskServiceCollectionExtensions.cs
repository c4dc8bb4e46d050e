namespace OpenNvr.Inference.Tasks;

public static class TaskServiceCollectionExtensions
{
    /// <summary>Registers a task plugin (a singleton, also resolvable as itself). See <see cref="IInferenceTask"/>.</summary>
    public static IServiceCollection AddInferenceTask<TTask>(this IServiceCollection services)
        where TTask : class, IInferenceTask
    {
        services.AddSingleton<TTask>();
        services.AddSingleton<IInferenceTask>(sp => sp.GetRequiredService<TTask>());
        return services;
    }
}
