using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Models;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// The decoding and alignment math against hand-computed values, and the InsightFace backends (SCRFD, ArcFace)
/// end to end on synthetic ONNX graphs of their layouts, directly and selected by configuration in a running service.
/// </summary>
public sealed class FaceBackendTests : IDisposable
{
    private readonly string _folder = TestTemp.NewFolder("face-models");

    public void Dispose() => TestTemp.TryDelete(_folder);

    [Fact]
    public void UltraFace_rows_are_thresholded_scaled_to_the_frame_and_suppressed()
    {
        float[] scores = [0.1f, 0.9f, 0.2f, 0.8f, 0.5f, 0.5f, 0.3f, 0.75f];
        float[] boxes =
        [
            0.10f, 0.20f, 0.30f, 0.40f, // kept: (64, 96, 192, 192) on 640x480
            0.11f, 0.21f, 0.31f, 0.41f, // overlaps the first (IoU 0.82): suppressed
            0.50f, 0.50f, 0.60f, 0.60f, // score 0.5: below the threshold
            0.90f, 0.90f, 1.20f, 1.10f, // clipped to the frame: (576, 432, 640, 480)
        ];

        var faces = UltraFaceDetector.Decode(scores, boxes, 640, 480, 0.7f, 0.4f);

        Assert.Equal(2, faces.Count);
        Assert.Equal((64f, 96f, 192f, 192f, 0.9f), (faces[0].X1, faces[0].Y1, faces[0].X2, faces[0].Y2, faces[0].Score), Tolerance);
        Assert.Equal((576f, 432f, 640f, 480f, 0.75f), (faces[1].X1, faces[1].Y1, faces[1].X2, faces[1].Y2, faces[1].Score), Tolerance);
        Assert.All(faces, f => Assert.Null(f.Landmarks));
    }

    [Fact]
    public void Scrfd_distances_and_keypoints_decode_from_the_anchor_centre_in_stride_units()
    {
        // Stride 8 on a 32-pixel input: a 4x4 grid, two anchors per location. Anchor 11 is location 5: x 1, y 1.
        var scores = new float[32];
        var distances = new float[32 * 4];
        var keypoints = new float[32 * 10];
        scores[11] = 0.9f;
        scores[12] = 0.3f; // below the threshold
        new float[] { 1, 2, 3, 4 }.CopyTo(distances, 11 * 4);
        new float[] { 0.5f, 0.5f, -1, 0, 0, 1, 2, 2, -2, 2 }.CopyTo(keypoints, 11 * 10);
        var faces = new List<DetectedFace>();

        ScrfdDetector.DecodeStride(scores, distances, keypoints, stride: 8, inputSize: 32, scale: 0.5f, minScore: 0.5f, faces);

        var face = Assert.Single(faces);
        // Centre (8, 8); box (8-8, 8-16, 8+24, 8+32) = (0, -8, 32, 40), divided by the scale 0.5.
        Assert.Equal((0f, -16f, 64f, 80f), (face.X1, face.Y1, face.X2, face.Y2));
        Assert.Equal(0.9f, face.Score);
        Assert.Equal([new(24, 24), new(0, 16), new(16, 32), new(48, 48), new(-16, 48)], face.Landmarks!);
    }

    [Theory]
    [InlineData(1280, 720, 640, 360, 0.5f)]
    [InlineData(720, 1280, 360, 640, 0.5f)]
    [InlineData(500, 375, 640, 480, 1.28f)]
    [InlineData(640, 640, 640, 640, 1f)]
    public void Scrfd_letterbox_matches_insightface(int frameWidth, int frameHeight, int width, int height, float scale)
    {
        var letterbox = ScrfdDetector.Letterbox(frameWidth, frameHeight, 640);

        Assert.Equal((width, height), (letterbox.Width, letterbox.Height));
        Assert.Equal(scale, letterbox.Scale, 4);
    }

    [Fact]
    public void Scrfd_outputs_are_told_apart_by_shape()
    {
        Assert.Equal([(0, 3, 6), (1, 4, 7), (2, 5, 8)], ScrfdDetector.MapOutputs([1, 1, 1, 4, 4, 4, 10, 10, 10], "m"));
        Assert.Equal([(0, 1, 2), (3, 4, 5), (6, 7, 8)], ScrfdDetector.MapOutputs([1, 4, 10, 1, 4, 10, 1, 4, 10], "m"));
        Assert.Equal([(0, 3, -1), (1, 4, -1), (2, 5, -1)], ScrfdDetector.MapOutputs([1, 1, 1, 4, 4, 4], "m"));
        Assert.Throws<InvalidOperationException>(() => ScrfdDetector.MapOutputs([1, 4, 10], "m"));
    }

    [Fact]
    public void The_similarity_estimate_recovers_a_known_rotation_scale_and_shift()
    {
        // Template points moved by scale 1.7, rotation 20 degrees, shift (5, -3): the estimate must undo exactly that.
        var (scale, angle, tx, ty) = (1.7, 20 * Math.PI / 180, 5.0, -3.0);
        var moved = FaceAlignment.ArcFaceTemplate.Select(p => new Point2f(
            (float)(scale * (Math.Cos(angle) * p.X - Math.Sin(angle) * p.Y) + tx),
            (float)(scale * (Math.Sin(angle) * p.X + Math.Cos(angle) * p.Y) + ty))).ToArray();

        var m = FaceAlignment.EstimateSimilarity(moved, FaceAlignment.ArcFaceTemplate);

        for (var i = 0; i < moved.Length; i++)
        {
            var x = m[0] * moved[i].X + m[1] * moved[i].Y + m[2];
            var y = m[3] * moved[i].X + m[4] * moved[i].Y + m[5];
            Assert.Equal(FaceAlignment.ArcFaceTemplate[i].X, x, 3);
            Assert.Equal(FaceAlignment.ArcFaceTemplate[i].Y, y, 3);
        }

        Assert.Equal(1 / scale, Math.Sqrt(m[0] * m[0] + m[3] * m[3]), 5);
        Assert.Equal(-angle, Math.Atan2(m[3], m[0]), 5);
    }

    [Fact]
    public void Alignment_warps_the_landmarks_onto_the_template()
    {
        // A black frame with white dots at five "landmarks" (the template scaled by 2 and shifted): after
        // alignment the dots sit on the template points of the 112x112 face.
        var landmarks = FaceAlignment.ArcFaceTemplate.Select(p => new Point2f(p.X * 2 + 100, p.Y * 2 + 50)).ToArray();
        using var frame = new Mat(400, 400, MatType.CV_8UC3, Scalar.All(0));
        foreach (var p in landmarks)
        {
            frame.Circle((int)Math.Round(p.X), (int)Math.Round(p.Y), 3, Scalar.All(255), -1);
        }

        using var aligned = FaceAlignment.Align(frame, landmarks);

        Assert.Equal(new Size(112, 112), aligned.Size());
        foreach (var p in FaceAlignment.ArcFaceTemplate)
        {
            Assert.True(aligned.At<Vec3b>((int)Math.Round(p.Y), (int)Math.Round(p.X)).Item0 > 200, $"no dot at {p}");
        }
    }

    [Fact]
    public void Five_points_are_the_eye_centres_nose_tip_and_mouth_corners_of_the_68()
    {
        var points = Enumerable.Range(0, 68).Select(i => new Point2f(i, 2 * i)).ToArray();

        var five = FaceLandmarker.ToFivePoints(points);

        Assert.Equal([new(38.5f, 77), new(44.5f, 89), new(30, 60), new(48, 96), new(54, 108)], five);
    }

    [Fact]
    public void Ssr_net_stages_combine_as_in_the_paper()
    {
        // Stage 1: (0+0.1)*0.2 + (1-0.2)*0.3 + (2+0)*0.5 = 1.26, over 3*(1+0.5) = 4.5 -> 0.28.
        // Stage 2: (0+0.5)*1 = 0.5, over 4.5 * 3*(1+0) = 13.5 -> 0.037037.
        // Stage 3: (2-1)*1 = 1, over 13.5 * 3*(1-0.5) = 20.25 -> 0.049383.
        // Sum 0.366420 times V = 101 -> 37.0084.
        var age = SsrNet.Decode(
            [[0.2f, 0.3f, 0.5f], [1, 0, 0], [0, 0, 1]],
            [0.5f, 0, -0.5f],
            [[0.1f, -0.2f, 0], [0.5f, 0, 0], [0, 0, -1]],
            101);

        Assert.Equal(37.0084, age, 3);
        Assert.Equal(0.366420, SsrNet.Decode([[0.2f, 0.3f, 0.5f], [1, 0, 0], [0, 0, 1]], [0.5f, 0, -0.5f], [[0.1f, -0.2f, 0], [0.5f, 0, 0], [0, 0, -1]], 1), 5);
    }

    [Fact]
    public void Tensors_are_planar_rgb_with_the_models_normalisation()
    {
        using var image = new Mat(1, 2, MatType.CV_8UC3);
        image.Set(0, 0, new Vec3b(10, 20, 30)); // B, G, R
        image.Set(0, 1, new Vec3b(40, 50, 60));
        var tensor = new float[6];

        FaceTensors.FillChw(image, tensor, 127.5f, 1 / 127.5f);

        float[] expected = [30, 60, 20, 50, 10, 40];
        Assert.Equal(expected.Select(v => (v - 127.5f) / 127.5f), tensor, Tolerance);
    }

    [Fact]
    public void The_synthetic_scrfd_graph_runs_through_the_detector_with_its_keypoints()
    {
        var path = Path.Combine(_folder, "det_synthetic.onnx");
        WriteScrfdWithOneFace(path);
        using var session = new InferenceSession(path);
        var detector = new ScrfdDetector(new OnnxModel("det_synthetic.onnx", path, session, "cpu"));
        // 64x48 fits the 32-pixel input as 32x24: scale 0.5.
        using var frame = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(90));

        var faces = detector.Detect(frame, 0.5f, 0.4f);

        Assert.True(detector.ProvidesLandmarks);
        var face = Assert.Single(faces);
        Assert.Equal((16f, 0f, 48f, 32f, 0.9f), (face.X1, face.Y1, face.X2, face.Y2, face.Score), Tolerance);
        Assert.Equal(new Point2f(32, 0), face.Landmarks![0]);
        Assert.Equal(new Point2f(40, 16), face.Landmarks[4]);
    }

    [Fact]
    public void The_arcface_embedder_feeds_rgb_scaled_to_plus_minus_one_and_normalises()
    {
        var path = Path.Combine(_folder, "w600k_synthetic.onnx");
        SyntheticFaceModels.WriteArcFace(path);
        using var session = new InferenceSession(path);
        var embedder = new ArcFaceEmbedder(new OnnxModel("w600k_synthetic.onnx", path, session, "cpu"));
        using var face = new Mat(112, 112, MatType.CV_8UC3, new Scalar(64, 0, 255)); // B, G, R

        var embedding = embedder.Embed(face);

        // Planes R, G, B: (255-127.5)/127.5 = 1, (0-127.5)/127.5 = -1, (64-127.5)/127.5 = -0.498; then L2-normalised.
        var norm = Math.Sqrt(1 + 1 + 0.498 * 0.498);
        Assert.Equal(512, embedder.Dimensions);
        Assert.Equal("arcface", embedder.Kind);
        Assert.Equal(1 / norm, embedding[0], 3);
        Assert.Equal(-1 / norm, embedding[1], 3);
        Assert.Equal(-0.498 / norm, embedding[2], 3);
        Assert.All(embedding[3..], v => Assert.Equal(0f, v));
    }

    [Fact]
    public async Task Configuration_selects_the_scrfd_detector_and_the_arcface_embedder_in_the_service()
    {
        var detectorPath = Path.Combine(_folder, "det_synthetic.onnx");
        var embedderPath = Path.Combine(_folder, "w600k_synthetic.onnx");
        WriteScrfdWithOneFace(detectorPath);
        SyntheticFaceModels.WriteArcFace(embedderPath);
        var fixture = new FacesFixture();
        await fixture.InitializeAsync();
        try
        {
            var service = fixture.StartInstance(
                ("Faces:Detector", "scrfd"), ("Faces:DetectorModel", detectorPath),
                ("Faces:Embedder", "arcface"), ("Faces:EmbedderModel", embedderPath));
            using var client = service.CreateClient();

            // The synthetic detector always reports one face at (8, -4, 24, 16) of its 32-pixel input, and its first
            // keypoint at (16, 0): in the frame, those divided by the letterbox scale (y clipped at 0).
            using var dogs = Cv2.ImRead(Infrastructure.RepositoryPaths.TestData("negative", "dogs.jpg"));
            var scale = ScrfdDetector.Letterbox(dogs.Width, dogs.Height, 32).Scale;
            var detection = await FacesFixture.InferAsync(client, "face_detection", new { frame = FacesFixture.Frame("negative", "dogs.jpg") });
            var face = Assert.Single(detection.GetProperty("faces").EnumerateArray());
            Assert.Equal($"[{Math.Round(8 / scale)},0,{Math.Round(24 / scale)},{Math.Round(16 / scale)}]", face.GetProperty("bbox").GetRawText());
            Assert.Equal(Math.Round(16 / scale, 1), face.GetProperty("landmarks")[0][0].GetDouble(), 1);
            Assert.Equal(0, face.GetProperty("landmarks")[0][1].GetDouble());

            var embedding = await FacesFixture.InferAsync(client, "face_embedding", new { frame = FacesFixture.Frame("negative", "dogs.jpg") });
            Assert.Equal(512, embedding.GetProperty("embedding_size").GetInt32());

            using var tasks = JsonDocument.Parse(await client.GetStringAsync("/tasks"));
            var models = tasks.RootElement.GetProperty("tasks").GetProperty("face_recognition").GetProperty("model_info").GetProperty("model").GetString();
            Assert.Equal("det_synthetic.onnx+w600k_synthetic.onnx", models);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    private static void WriteScrfdWithOneFace(string path) =>
        // Stride 16 on a 32-pixel input: a 2x2 grid; anchor 3 is location 1 (x 1, y 0), centre (16, 0).
        // Box (16-8, 0-4, 16+8, 0+16) = (8, -4, 24, 16); keypoint 0 at the centre, keypoint 4 at (16+4, 0+8).
        SyntheticFaceModels.WriteScrfd(path, new()
        {
            [(16, 3)] = (0.9f, [0.5f, 0.25f, 0.5f, 1.0f], [0, 0, 0, 0, 0, 0, 0, 0, 0.25f, 0.5f]),
            [(8, 5)] = (0.3f, [1, 1, 1, 1], new float[10]),
        });

    private static readonly FloatTolerance Tolerance = new(1e-3f);

    private sealed class FloatTolerance(float epsilon) : IEqualityComparer<float>,
        IEqualityComparer<(float, float, float, float, float)>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= epsilon;

        public int GetHashCode(float obj) => 0;

        public bool Equals((float, float, float, float, float) x, (float, float, float, float, float) y) =>
            Equals(x.Item1, y.Item1) && Equals(x.Item2, y.Item2) && Equals(x.Item3, y.Item3) && Equals(x.Item4, y.Item4) && Equals(x.Item5, y.Item5);

        public int GetHashCode((float, float, float, float, float) obj) => 0;
    }
}
