using Google.Protobuf;
using Onnx;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// Small ONNX graphs with the input and output layouts of InsightFace's SCRFD detector and ArcFace recogniser,
/// whose weights cannot be downloaded here, so that those backends are tested end to end through ONNX Runtime with
/// outputs whose decoding can be computed by hand.
/// </summary>
public static class SyntheticFaceModels
{
    /// <summary>
    /// An SCRFD layout with a 32x32 input: strides 8, 16, 32 give 32, 8 and 2 anchors. The outputs are constants
    /// (the values given, zeros elsewhere), interleaved per stride (score, boxes, keypoints) to show that outputs are
    /// told apart by shape, not by position.
    /// </summary>
    public static void WriteScrfd(string path, Dictionary<(int Stride, int Anchor), (float Score, float[] Distances, float[] Keypoints)> anchors)
    {
        const int inputSize = 32;
        var graph = new GraphProto { Name = "scrfd_synthetic" };
        graph.Input.Add(ValueInfo("input.1", 1, 3, inputSize, inputSize));
        foreach (var stride in new[] { 8, 16, 32 })
        {
            var count = (inputSize / stride) * (inputSize / stride) * 2;
            var scores = new float[count];
            var boxes = new float[count * 4];
            var keypoints = new float[count * 10];
            foreach (var ((s, anchor), (score, distances, points)) in anchors)
            {
                if (s == stride)
                {
                    scores[anchor] = score;
                    distances.CopyTo(boxes, anchor * 4);
                    points.CopyTo(keypoints, anchor * 10);
                }
            }

            AddConstantOutput(graph, $"score_{stride}", scores, count, 1);
            AddConstantOutput(graph, $"bbox_{stride}", boxes, count, 4);
            AddConstantOutput(graph, $"kps_{stride}", keypoints, count, 10);
        }

        Save(graph, path);
    }

    /// <summary>
    /// An ArcFace layout: input <c>[1,3,112,112]</c>, output <c>[1,512]</c> = the mean of each input plane in
    /// dimensions 0, 1, 2 (zeros elsewhere), so the output shows the preprocessing the embedder applied.
    /// </summary>
    public static void WriteArcFace(string path)
    {
        var graph = new GraphProto { Name = "arcface_synthetic" };
        graph.Input.Add(ValueInfo("input.1", 1, 3, 112, 112));
        graph.Output.Add(ValueInfo("683", 1, 512));
        var means = new NodeProto { OpType = "ReduceMean", Input = { "input.1" }, Output = { "plane_means" } };
        means.Attribute.Add(new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 3 } });
        means.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(means);
        var weights = new float[3 * 512];
        for (var c = 0; c < 3; c++)
        {
            weights[c * 512 + c] = 1;
        }

        graph.Initializer.Add(Tensor("weights", weights, 3, 512));
        graph.Node.Add(new NodeProto { OpType = "MatMul", Input = { "plane_means", "weights" }, Output = { "683" } });
        Save(graph, path);
    }

    private static void AddConstantOutput(GraphProto graph, string name, float[] values, params long[] dims)
    {
        var constant = new NodeProto { OpType = "Constant", Output = { name } };
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Tensor(name + "_value", values, dims) });
        graph.Node.Add(constant);
        graph.Output.Add(ValueInfo(name, dims));
    }

    private static TensorProto Tensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    private static ValueInfoProto ValueInfo(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static void Save(GraphProto graph, string path)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "opennvr-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        File.WriteAllBytes(path, model.ToByteArray());
    }
}
