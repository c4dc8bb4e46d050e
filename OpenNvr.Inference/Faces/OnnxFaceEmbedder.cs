using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// An ONNX face recogniser on aligned 112x112 RGB faces, planar, <c>(v - mean) / std</c>, whose first output is the
/// embedding <c>[1,D]</c>; the result is L2-normalised so that cosine similarity is a dot product.
/// </summary>
public class OnnxFaceEmbedder : IFaceEmbedder
{
    private readonly OnnxModel _model;
    private readonly string _inputName;
    // One per model for the process lifetime: RunOptions is a native object and may be shared by concurrent runs.
    private readonly RunOptions _runOptions = new();
    private readonly string[] _outputNames;
    private readonly float _mean;
    private readonly float _scale;

    protected OnnxFaceEmbedder(OnnxModel model, string kind, float mean, float std)
    {
        _model = model;
        Kind = kind;
        _mean = mean;
        _scale = 1f / std;
        var (inputName, input) = model.Session.InputMetadata.Single();
        var (outputName, output) = model.Session.OutputMetadata.First();
        // Batch (and, in some exports, the spatial size) may be dynamic (-1): only fixed sizes are checked.
        if (input.Dimensions.Length != 4 || input.Dimensions[1] != 3
            || input.Dimensions[2] is not (-1 or FaceAlignment.Size) || input.Dimensions[3] is not (-1 or FaceAlignment.Size)
            || output.Dimensions.Length != 2 || output.Dimensions[1] <= 0)
        {
            throw new InvalidOperationException(
                $"{model.Name} does not have the face recogniser layout (input [1,3,112,112], output [1,D]); got [{string.Join(",", input.Dimensions)}] -> [{string.Join(",", output.Dimensions)}].");
        }

        _inputName = inputName;
        _outputNames = [outputName];
        Dimensions = output.Dimensions[1];
    }

    public string Kind { get; }

    public string ModelName => _model.Name;

    public int Dimensions { get; }

    public float[] Embed(Mat alignedFace)
    {
        if (alignedFace.Width != FaceAlignment.Size || alignedFace.Height != FaceAlignment.Size)
        {
            throw new ArgumentException("Expected an aligned 112x112 face.", nameof(alignedFace));
        }

        var input = new float[3 * FaceAlignment.Size * FaceAlignment.Size];
        Preprocess(alignedFace, input);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, FaceAlignment.Size, FaceAlignment.Size]);
        using var outputs = _model.Session.Run(_runOptions, [_inputName], [inputValue], _outputNames);
        return FaceTensors.L2Normalise(outputs[0].GetTensorDataAsSpan<float>());
    }

    /// <summary>Fills the planar RGB input tensor from the aligned BGR face.</summary>
    public void Preprocess(Mat alignedFace, Span<float> input) => FaceTensors.FillChw(alignedFace, input, _mean, _scale);
}

/// <summary>The bundled <c>fr_feature.onnx</c>: RGB <c>(v-127)/128</c>, 512-d.</summary>
public sealed class BundledFaceEmbedder(OnnxModel model) : OnnxFaceEmbedder(model, "bundled", 127f, 128f);

/// <summary>InsightFace ArcFace (<c>w600k_r50.onnx</c>, <c>w600k_mbf.onnx</c>): RGB <c>(v-127.5)/127.5</c>, 512-d.</summary>
public sealed class ArcFaceEmbedder(OnnxModel model) : OnnxFaceEmbedder(model, "arcface", 127.5f, 127.5f);
