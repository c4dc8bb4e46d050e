using System.Diagnostics;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// The one polling helper of the tests: waits for something the system does on its own (a chunk indexed, a lease
/// moved, a span recorded) by looking again every <c>pollMs</c> until it holds, and fails with what was awaited when
/// the timeout passes. Timeouts are generous ceilings, not expectations: load slows a test down, it never fails it.
/// </summary>
public static class Wait
{
    private const int DefaultPollMs = 250;

    /// <summary>Polls until the condition holds and returns how long that took.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what, int pollMs = DefaultPollMs)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what()}.");
            }

            await Task.Delay(pollMs);
        }

        return watch.Elapsed;
    }

    public static Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int pollMs = DefaultPollMs) =>
        UntilAsync(condition, timeout, () => what, pollMs);

    public static Task<TimeSpan> UntilAsync(Func<bool> condition, TimeSpan timeout, string what, int pollMs = DefaultPollMs) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, () => what, pollMs);

    /// <summary>Polls until <paramref name="find"/> returns something and returns it.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> find, TimeSpan timeout, Func<string> what, int pollMs = DefaultPollMs) where T : class
    {
        T? found = null;
        await UntilAsync(async () => (found = await find()) is not null, timeout, what, pollMs);
        return found!;
    }

    public static Task<T> ForAsync<T>(Func<Task<T?>> find, TimeSpan timeout, string what, int pollMs = DefaultPollMs) where T : class =>
        ForAsync(find, timeout, () => what, pollMs);

    public static Task<T> ForAsync<T>(Func<T?> find, TimeSpan timeout, string what, int pollMs = DefaultPollMs) where T : class =>
        ForAsync(() => Task.FromResult(find()), timeout, () => what, pollMs);
}
