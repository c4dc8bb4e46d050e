using OpenNvr.Contracts.People;
using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

/// <summary>
/// The scripted scene of the tracking ground-truth test (768x576, 40 s), people cut from
/// testdata/persons/vtest_0200.jpg. Everyone walks in from an edge of the frame and out of another.
/// <list type="bullet">
/// <item>Line: x = 0.5 from y = 0.95 up to y = 0.55 (across the lower road and the grass below it). Walking up the
/// screen, the right hand points to +x, so crossing it left to right is "in".</item>
/// <item>Zone: the upper-left stretch of the road, x 0.05-0.35, y 0.30-0.50, loitering after 6 s.</item>
/// <item>Walker 1 crosses the line left to right (in) at about 6 s; walker 2 right to left (out) at about 27 s;
/// walker 6 left to right (in) at about 32 s.</item>
/// <item>Walker 3 walks into the zone from the left edge (about 1.8 s), stands still in it for 8 s (loitering),
/// then walks back out to the left (about 19 s).</item>
/// <item>Walkers 4 and 5 walk the upper road in opposite directions through the zone and cross each other at about
/// 30 s (an id switch is allowed there and nowhere else); both pass above the line's upper end (no crossing).</item>
/// </list>
/// No two walkers come within a body width of each other except 4 and 5 at their crossing.
/// </summary>
public static class GroundTruthScenario
{
    public const double Seconds = 40;

    public static readonly PersonCrop DarkJacketJeans = new("vtest_0200.jpg", 610, 257, 655, 372);
    public static readonly PersonCrop BlackCoat = new("vtest_0200.jpg", 699, 250, 747, 360);
    public static readonly PersonCrop StripedJumper = new("vtest_0200.jpg", 214, 185, 253, 270);
    public static readonly PersonCrop GreenJacket = new("vtest_0200.jpg", 482, 140, 521, 223);
    public static readonly PersonCrop LightCoat = new("vtest_0200.jpg", 76, 148, 112, 221);

    public static readonly LineDefinition Line = new(1, "path", new PlanePoint(0.5, 0.95), new PlanePoint(0.5, 0.55));

    public static readonly ZoneDefinition Zone = new(1, "upper road",
        [new(0.05, 0.30), new(0.35, 0.30), new(0.35, 0.50), new(0.05, 0.50)], LoiteringSeconds: 6);

    public static readonly IReadOnlyList<ScriptedPerson> People =
    [
        new("walker 1", DarkJacketJeans, [new(0, -30, 372), new(15.6, 800, 372)]),
        new("walker 2", BlackCoat, [new(18, 800, 360), new(35.7, -30, 360)]),
        new("walker 3", StripedJumper, [new(0, -30, 250), new(7, 180, 250), new(15, 180, 250), new(20.6, -30, 250)]),
        new("walker 4", GreenJacket, [new(22, -30, 225), new(38, 800, 225)]),
        new("walker 5", LightCoat, [new(22, 800, 212), new(38, -30, 212)]),
        new("walker 6", DarkJacketJeans, [new(24, -30, 520), new(40, 800, 520)]),
    ];

    /// <summary>Walkers whose paths cross another's (ids may switch at the crossing).</summary>
    public static readonly IReadOnlySet<string> Crossing = new HashSet<string> { "walker 4", "walker 5" };

    public const int LineIn = 2;
    public const int LineOut = 1;
    public const int ZoneEntries = 3;
    public const int ZoneLoiterers = 1;
}
