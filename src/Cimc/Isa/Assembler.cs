using System.Collections.Immutable;
using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// Text assembly to <see cref="ProgramImage"/>. One instruction per line, every field named:
/// <c>mvm xb=0, src=0, dst=128, rows=128, cols=128, ibits=8, shift=0, neg=0</c> (any order);
/// <c>;</c> starts a comment; directives <c>.arch .input .output .output_scale .output_zero_point
/// .core .data</c>, <c>.input_part .output_part</c> for split I/O, <c>.input_image</c> for an image the host reorders, and for a replicated program <c>.slot .sample</c>, as in docs/isa.md. Errors are CimcException("asm-error", "file:line", message).
/// </summary>
public static class Assembler
{
    public static ProgramImage AssembleFile(string path) => Assemble(File.ReadAllText(path), path);

    public static ProgramImage Assemble(string text, string file = "<asm>") => new Parser(file).Run(text);

    private sealed class Parser(string file)
    {
        private int _line;
        private ArchHeader? _arch;
        private InputSpec? _input;
        private (int Tile, int Addr, int Len)? _output;
        private ImmutableArray<double>? _outputScales;
        private ImmutableArray<long>? _outputZeroPoints;
        private readonly List<int> _coreOrder = [];
        private readonly Dictionary<int, (List<Instruction> Code, List<DataSegment> Data)> _cores = [];
        private readonly Dictionary<int, List<SlotSection>> _sections = [];
        private readonly List<SlotIo> _slots = [];
        private readonly List<IoPart> _inputParts = [], _outputParts = [];
        private InputImage? _inputImage;
        private int _sample = -1;
        private readonly HashSet<int> _coreDirectives = [];
        private int? _current;
        private (int Core, int Addr)? _pendingData;

        public ProgramImage Run(string text)
        {
            string[] lines = text.ReplaceLineEndings("\n").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                _line = i + 1;
                string line = lines[i];
                int comment = line.IndexOf(';');
                line = (comment >= 0 ? line[..comment] : line).Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                if (_pendingData is { } pending)
                {
                    DataLine(pending.Core, pending.Addr, line);
                    _pendingData = null;
                }
                else if (line[0] == '.')
                {
                    Directive(line);
                }
                else
                {
                    InstructionLine(line);
                }
            }

            _line = lines.Length;
            if (_pendingData is not null)
            {
                throw Error(".data must be followed by a line of comma-separated integers");
            }

            if (_arch is null || _input is null || _output is null)
            {
                throw Error("a program needs .arch, .input and .output directives");
            }

            (int tile, int addr, int len) = _output.Value;
            ImmutableArray<double> scales = _outputScales ?? [];
            ImmutableArray<long> zeroPoints = _outputZeroPoints ?? [];
            if (scales.Length != len || zeroPoints.Length != len)
            {
                throw Error($".output has len={len} but .output_scale gives {scales.Length} values and .output_zero_point {zeroPoints.Length}");
            }

            var program = new ProgramImage(_arch, _input with { Parts = [.. _inputParts], Image = _inputImage }, new OutputSpec(tile, addr, len, scales, zeroPoints) { Parts = [.. _outputParts] },
                [.. _coreOrder.Select(c => new CoreProgram(c, [.. _cores[c].Code], [.. _cores[c].Data]) { Sections = [.. _sections.GetValueOrDefault(c) ?? []] })])
            {
                ExtraSlots = [.. _slots],
            };
            program.Validate(file);
            return program;
        }

        private CimcException Error(string message) => new("asm-error", $"{file}:{_line}", message);

        private void Directive(string line)
        {
            string[] tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            string name = tokens[0];
            string[] args = tokens[1..];
            if (name != ".arch" && _arch is null)
            {
                throw Error($"{name} before .arch");
            }

            switch (name)
            {
                case ".arch":
                    if (_arch is not null)
                    {
                        throw Error("second .arch");
                    }

                    Dictionary<string, string> a = KeyValues(args, ArchHeader.Names);
                    _arch = ArchHeader.FromValues([.. ArchHeader.Names.Select(n => Int(n, a[n]))]);
                    try
                    {
                        _arch.Validate("");
                    }
                    catch (CimcException e)
                    {
                        throw Error(e.Diagnostic.Message);
                    }

                    break;
                case ".input":
                    Once(_input is null, name);
                    Dictionary<string, string> inp = KeyValues(args, ["tile", "addr", "len", "scale", "zero_point", "qmin", "qmax"]);
                    _input = new InputSpec(Int("tile", inp["tile"]), Int("addr", inp["addr"]), Int("len", inp["len"]), Double("scale", inp["scale"]),
                        Long("zero_point", inp["zero_point"]), Long("qmin", inp["qmin"]), Long("qmax", inp["qmax"]));
                    // Its region is checked with the whole program: .input_part lines may split it.
                    Checked(() => _input.ValidateCodes(""));
                    break;
                case ".input_image":
                    Once(_inputImage is null, name);
                    Dictionary<string, string> im = KeyValues(args, ["channels", "height", "width"]);
                    _inputImage = new InputImage(Int("channels", im["channels"]), Int("height", im["height"]), Int("width", im["width"]));
                    break;
                case ".output":
                    Once(_output is null, name);
                    Dictionary<string, string> o = KeyValues(args, ["tile", "addr", "len"]);
                    _output = (Int("tile", o["tile"]), Int("addr", o["addr"]), Int("len", o["len"]));
                    break;
                case ".input_part":
                case ".output_part":
                    Dictionary<string, string> part = KeyValues(args, ["tile", "addr", "start", "len"]);
                    var ioPart = new IoPart(Int("tile", part["tile"]), Int("addr", part["addr"]), Int("start", part["start"]), Int("len", part["len"]));
                    Checked(() => IoRange.Check(name[1..], ioPart.Tile, ioPart.Addr, ioPart.Len, _arch!, ""));
                    (name == ".input_part" ? _inputParts : _outputParts).Add(ioPart);
                    break;
                case ".output_scale":
                    Once(_outputScales is null, name);
                    _outputScales = [.. args.Select(v => Double("output scale", v))];
                    if (_outputScales.Value.Any(s => !double.IsFinite(s)))
                    {
                        throw Error("output scales must be finite");
                    }

                    break;
                case ".output_zero_point":
                    Once(_outputZeroPoints is null, name);
                    _outputZeroPoints = [.. args.Select(v => Long("output zero point", v))];
                    break;
                case ".core":
                    if (args.Length != 1)
                    {
                        throw Error(".core takes one core id: .core G");
                    }

                    int core = CoreId(args[0]);
                    if (!_coreDirectives.Add(core))
                    {
                        throw Error($".core {core} appears twice");
                    }

                    _current = core;
                    _sample = -1;
                    break;
                case ".slot":
                    Dictionary<string, string> io = KeyValues(args.Skip(1).ToArray(), ["input_tile", "input_addr", "output_tile", "output_addr"]);
                    if (args.Length != 5 || Int("slot", args[0]) != _slots.Count + 1)
                    {
                        throw Error($".slot takes the next slot ({_slots.Count + 1}) and input_tile=, input_addr=, output_tile=, output_addr=");
                    }

                    _slots.Add(new SlotIo(Int("input_tile", io["input_tile"]), Int("input_addr", io["input_addr"]), Int("output_tile", io["output_tile"]), Int("output_addr", io["output_addr"])));
                    break;
                case ".sample":
                    if (args.Length != 1 || _current is null)
                    {
                        throw Error(".sample takes a slot or 'all' and follows a .core directive");
                    }

                    _sample = args[0] == "all" ? -1 : Int("slot", args[0]);
                    if (args[0] != "all" && (_sample < 0 || _sample > _slots.Count))
                    {
                        throw Error($".sample {args[0]}: the period has slots 0 to {_slots.Count} (declare more with .slot)");
                    }

                    break;
                case ".data":
                    if (args.Length != 2)
                    {
                        throw Error(".data takes a core id and addr=A: .data G addr=A");
                    }

                    int dataCore = CoreId(args[0]);
                    Dictionary<string, string> d = KeyValues(args[1..], ["addr"]);
                    _pendingData = (dataCore, Int("addr", d["addr"]));
                    break;
                default:
                    throw Error($"unknown directive '{name}'");
            }
        }

        private void Once(bool first, string name)
        {
            if (!first)
            {
                throw Error($"second {name}");
            }
        }

        private void Checked(Action validate)
        {
            try
            {
                validate();
            }
            catch (CimcException e)
            {
                throw Error(e.Diagnostic.Message);
            }
        }

        private int CoreId(string text)
        {
            int core = Int("core id", text);
            if (core < 0 || core >= _arch!.TotalCores)
            {
                throw Error($"core {core} is outside [0, {_arch!.TotalCores})");
            }

            if (!_cores.ContainsKey(core))
            {
                _cores[core] = ([], []);
                _coreOrder.Add(core);
            }

            return core;
        }

        private void DataLine(int core, int addr, string line)
        {
            long[] values = [.. line.Split(',').Select(v => Long("data value", v.Trim()))];
            if (addr < 0 || (long)addr + values.Length > _arch!.LocalWords)
            {
                throw Error($"data [{addr}, {(long)addr + values.Length}) is outside local memory of {_arch!.LocalWords} words");
            }

            _cores[core].Data.Add(new DataSegment(addr, [.. values]));
        }

        private void InstructionLine(string line)
        {
            int space = line.IndexOfAny([' ', '\t']);
            string mnemonic = space < 0 ? line : line[..space];
            string rest = space < 0 ? "" : line[(space + 1)..].Trim();
            if (!InstructionSet.TryGetByMnemonic(mnemonic, out OpcodeSpec spec))
            {
                throw Error($"unknown instruction '{mnemonic}'");
            }

            if (_current is not int core)
            {
                throw Error($"instruction '{mnemonic}' before any .core directive");
            }

            var values = new long?[spec.Fields.Length];
            if (rest.Length > 0)
            {
                foreach (string part in rest.Split(','))
                {
                    (string key, string value) = KeyValue(part.Trim());
                    int index = spec.IndexOf(key);
                    if (index < 0)
                    {
                        throw Error($"{mnemonic} has no field '{key}' (fields: {string.Join(", ", spec.Fields.Select(f => f.Name))})");
                    }

                    if (values[index] is not null)
                    {
                        throw Error($"field '{key}' given twice");
                    }

                    FieldSpec f = spec.Fields[index];
                    long v = Long(key, value);
                    if (!f.Accepts(v))
                    {
                        throw Error($"{mnemonic}: {key}={v} is outside [{f.Min}, {f.Max}] ({f.Bits}-bit {(f.Signed ? "signed" : "unsigned")})");
                    }

                    values[index] = v;
                }
            }

            for (int k = 0; k < values.Length; k++)
            {
                values[k] ??= spec.Fields[k].Optional ? 0 : null;
            }

            int missing = Array.IndexOf(values, null);
            if (missing >= 0)
            {
                throw Error($"{mnemonic}: missing field '{spec.Fields[missing].Name}'");
            }

            List<Instruction> code = _cores[core].Code;
            if (_sample >= 0)
            {
                List<SlotSection> sections = _sections.TryGetValue(core, out var list) ? list : _sections[core] = [];
                if (sections.Count > 0 && sections[^1].Slot == _sample && sections[^1].End == code.Count)
                {
                    sections[^1] = sections[^1] with { Count = sections[^1].Count + 1 };
                }
                else
                {
                    sections.Add(new SlotSection(_sample, code.Count, 1));
                }
            }

            code.Add(new Instruction(spec.Opcode, [.. values.Select(v => v!.Value)]));
        }

        private (string Key, string Value) KeyValue(string token)
        {
            int eq = token.IndexOf('=');
            if (eq <= 0)
            {
                throw Error($"expected name=value, got '{token}'");
            }

            return (token[..eq].Trim(), token[(eq + 1)..].Trim());
        }

        private Dictionary<string, string> KeyValues(string[] tokens, IReadOnlyList<string> required)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string token in tokens)
            {
                (string key, string value) = KeyValue(token);
                if (!required.Contains(key))
                {
                    throw Error($"unknown key '{key}' (expected {string.Join(", ", required)})");
                }

                if (!result.TryAdd(key, value))
                {
                    throw Error($"key '{key}' given twice");
                }
            }

            foreach (string key in required)
            {
                if (!result.ContainsKey(key))
                {
                    throw Error($"missing {key}=");
                }
            }

            return result;
        }

        private long Long(string what, string text) =>
            long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
                ? v
                : throw Error($"{what}: '{text}' is not an integer");

        private int Int(string what, string text)
        {
            long v = Long(what, text);
            return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw Error($"{what}: {v} is out of range");
        }

        private double Double(string what, string text) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                ? v
                : throw Error($"{what}: '{text}' is not a number");
    }
}
