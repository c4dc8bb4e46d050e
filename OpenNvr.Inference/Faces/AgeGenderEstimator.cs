using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// The bundled SSR-Net age and gender models (<c>fr_age.onnx</c>, <c>fr_gender.onnx</c>): input <c>[1,3,64,64]</c>
/// RGB with ImageNet normalisation of a square crop 1.4 times the face (as the models' package prepares it), nine
/// outputs decoded by <see cref="SsrNet.Decode"/>. Gender: the value is the probability of male (1 = male).
/// </summary>
public sealed class AgeGenderEstimator
{
    public const int InputSize = 64;
    public const float CropScale = 1.4f;
    public const double AgeRange = 101;
    public const double GenderRange = 1;

    private static readonly float[] ImageNetMean = [0.485f * 255, 0.456f * 255, 0.406f * 255];
    private static readonly float[] ImageNetScale = [1 / (0.229f * 255), 1 / (0.224f * 255), 1 / (0.225f * 255)];

    private readonly SsrNetModel? _age;
    private readonly SsrNetModel? _gender;

    public AgeGenderEstimator(OnnxModel? age, OnnxModel? gender)
    {
        _age = age is null ? null : new SsrNetModel(age);
        _gender = gender is null ? null : new SsrNetModel(gender);
    }

    public bool HasAge => _age is not null;

    public bool HasGender => _gender is not null;

    public string? AgeModelName => _age?.Model.Name;

    public string? GenderModelName => _gender?.Model.Name;

    /// <summary>Age in years (0-100) and the probability of male (0-1), each null when its model is not loaded.</summary>
    public (double? Age, double? Male) Estimate(Mat frame, DetectedFace face)
    {
        if (_age is null && _gender is null)
        {
            return (null, null);
        }

        var side = face.Height * CropScale;
        var cx = (face.X1 + face.X2) / 2;
        var cy = (face.Y1 + face.Y2) / 2;
        var input = new float[3 * InputSize * InputSize];
        using (var crop = FaceTensors.CropSquare(frame, cx - side / 2, cy - side / 2, side, InputSize))
        {
            FaceTensors.FillChw(crop, input, ImageNetMean, ImageNetScale);
        }

        return (_age?.Run(input, AgeRange), _gender?.Run(input, GenderRange));
    }

    private sealed class SsrNetModel
    {
        private static readonly string[] OutputNames =
        [
            "prob_stage_1", "prob_stage_2", "prob_stage_3",
            "stage1_delta_k", "stage2_delta_k", "stage3_delta_k",
            "index_offset_stage1", "index_offset_stage2", "index_offset_stage3",
        ];

        private readonly string _inputName;
        private readonly RunOptions _runOptions = new();

        public SsrNetModel(OnnxModel model)
        {
            Model = model;
            var (inputName, input) = model.Session.InputMetadata.Single();
            if (!input.Dimensions.SequenceEqual([1, 3, InputSize, InputSize]) || OutputNames.Any(n => !model.Session.OutputMetadata.ContainsKey(n)))
            {
                throw new InvalidOperationException($"{model.Name} does not have the SSR-Net layout (input [1,3,64,64], outputs {string.Join(", ", OutputNames)}).");
            }

            _inputName = inputName;
        }

        public OnnxModel Model { get; }

        public double Run(float[] input, double range)
        {
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, InputSize, InputSize]);
            using var outputs = Model.Session.Run(_runOptions, [_inputName], [inputValue], OutputNames);
            return SsrNet.Decode(
                [outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray(), outputs[2].GetTensorDataAsSpan<float>().ToArray()],
                [outputs[3].GetTensorDataAsSpan<float>()[0], outputs[4].GetTensorDataAsSpan<float>()[0], outputs[5].GetTensorDataAsSpan<float>()[0]],
                [outputs[6].GetTensorDataAsSpan<float>().ToArray(), outputs[7].GetTensorDataAsSpan<float>().ToArray(), outputs[8].GetTensorDataAsSpan<float>().ToArray()],
                range);
        }
    }
}

/// <summary>Soft stagewise regression (Yang et al., "SSR-Net", IJCAI 2018).</summary>
public static class SsrNet
{
    /// <summary>
    /// Combines the stages: stage k contributes <c>Σ_i (i + η_k,i) p_k,i</c> divided by the product over stages
    /// j ≤ k of <c>s_j (1 + Δ_j)</c>, and the sum of the stages times <paramref name="range"/> is the value
    /// (λ_local = λ_d = 1, as the models were trained).
    /// </summary>
    /// <param name="probabilities">Per stage, the probability of each bin.</param>
    /// <param name="deltas">Per stage, the dynamic range shift Δ_k.</param>
    /// <param name="offsets">Per stage, the per-bin index offsets η_k.</param>
    /// <param name="range">V: 101 for age, 1 for gender.</param>
    public static double Decode(IReadOnlyList<float[]> probabilities, IReadOnlyList<float> deltas, IReadOnlyList<float[]> offsets, double range)
    {
        double value = 0;
        double divisor = 1;
        for (var k = 0; k < probabilities.Count; k++)
        {
            var bins = probabilities[k].Length;
            double stage = 0;
            for (var i = 0; i < bins; i++)
            {
                stage += (i + offsets[k][i]) * probabilities[k][i];
            }

            divisor *= bins * (1 + deltas[k]);
            value += stage / divisor;
        }

        return value * range;
    }
}
