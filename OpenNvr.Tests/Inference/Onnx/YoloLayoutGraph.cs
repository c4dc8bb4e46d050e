using Google.Protobuf;
using Onnx;

namespace OpenNvr.Tests.Inference.Onnx;

/// <summary>One candidate the generated graph outputs: a box in model-input pixels and its class scores.</summary>
public sealed record YoloCandidate(int Index, float Cx, float Cy, float W, float H, params (int ClassId, float Score)[] Scores);

/// <summary>
/// Writes a small ONNX graph with the YOLOv8/YOLO11 export's interface: input <c>images [1,3,S,S]</c>, output
/// <c>output0 [1,4+nc,N]</c> holding chosen candidates (all others zero). The output is
/// <c>constant + 0 * mean(images)</c>, so the input is really consumed and must have the right shape.
/// </summary>
public static class YoloLayoutGraph
{
    private const int Float = (int)TensorProto.Types.DataType.Float;

    public static void Write(string path, int size, int classes, int candidates, IEnumerable<YoloCandidate> chosen)
    {
        var channels = 4 + classes;
        var data = new float[channels * candidates];
        foreach (var c in chosen)
        {
            data[c.Index] = c.Cx;
            data[candidates + c.Index] = c.Cy;
            data[2 * candidates + c.Index] = c.W;
            data[3 * candidates + c.Index] = c.H;
            foreach (var (classId, score) in c.Scores)
            {
                data[(4 + classId) * candidates + c.Index] = score;
            }
        }

        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);

        var graph = new GraphProto { Name = "yolo_layout" };
        graph.Input.Add(Value("images", 1, 3, size, size));
        graph.Output.Add(Value("output0", 1, channels, candidates));
        graph.Initializer.Add(Tensor("detections", bytes, 1, channels, candidates));
        graph.Initializer.Add(Tensor("zero", BitConverter.GetBytes(0f)));
        graph.Node.Add(Node("ReduceMean", ["images"], ["mean"], new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 }));
        graph.Node.Add(Node("Mul", ["mean", "zero"], ["nothing"]));
        graph.Node.Add(Node("Add", ["detections", "nothing"], ["output0"]));

        var model = new ModelProto { IrVersion = 7, ProducerName = "OpenNvr.Tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = Float, Shape = shape } },
        };
    }

    private static TensorProto Tensor(string name, byte[] raw, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = Float, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.Add(dims);
        return tensor;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = op + "_" + outputs[0] };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        node.Attribute.Add(attributes);
        return node;
    }
}
