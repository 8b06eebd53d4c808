using System.Diagnostics;
using System.Text;
using Cimc.Diagnostics;
using Cimc.Import.Torch;
using Cimc.Import.Torch.Pickle;

namespace Cimc.Tests.Import;

/// <summary>The pickle machine on hand-built byte sequences: data comes out, code and garbage do not.</summary>
public sealed class TorchPickleMachineTests
{
    private static byte[] Bytes(params object[] parts)
    {
        var b = new List<byte>();
        foreach (object p in parts)
        {
            switch (p)
            {
                case byte x:
                    b.Add(x);
                    break;
                case char c:
                    b.Add((byte)c);
                    break;
                case string s:
                    b.AddRange(Encoding.ASCII.GetBytes(s));
                    break;
                case byte[] a:
                    b.AddRange(a);
                    break;
                default:
                    throw new ArgumentException(p.GetType().Name);
            }
        }

        return [.. b];
    }

    private static byte[] ShortString(string s) => [0x8c, (byte)s.Length, .. Encoding.ASCII.GetBytes(s)];

    private static object? Load(byte[] data) => PickleMachine.Load(data, "test.pkl");

    [Fact]
    public void A_dict_of_lists_and_scalars_loads_in_insertion_order()
    {
        // {'b': [1, 2.5], 'a': True} with MEMOIZE and a BINGET of the memoized key.
        byte[] pkl = Bytes((byte)0x80, (byte)4, '}', (byte)0x94, '(', ShortString("b"), (byte)0x94, ']', '(', 'K', (byte)1,
            'G', BitConverter.GetBytes(2.5).Reverse().ToArray(), 'e', ShortString("a"), (byte)0x88, 'u', '.');
        var dict = Assert.IsType<PyDict>(Load(pkl));
        Assert.Equal(["b", "a"], dict.Keys);
        Assert.True(dict.TryGet("b", out object? list));
        Assert.Equal([1L, 2.5], Assert.IsType<List<object?>>(list));
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch.storage", "_load_from_bytes")]
    [InlineData("__builtin__", "getattr")]
    public void A_global_outside_the_allow_list_is_refused_by_name(string module, string name)
    {
        byte[] viaGlobal = Bytes((byte)0x80, (byte)2, 'c', $"{module}\n{name}\n", ShortString("x"), (byte)0x85, 'R', '.');
        byte[] viaStack = Bytes((byte)0x80, (byte)4, ShortString(module), ShortString(name), (byte)0x93, ShortString("x"), (byte)0x85, 'R', '.');
        foreach (byte[] pkl in new[] { viaGlobal, viaStack })
        {
            var e = Assert.Throws<CimcException>(() => Load(pkl));
            Assert.Equal($"test.pkl: refused to load '{module}.{name}': only tensors and standard layers are allowed (pickles can run code)", e.Message);
        }
    }

    [Fact]
    public void A_pickle_growing_a_list_by_millions_of_one_byte_operations_is_refused()
    {
        // Each 'N' adds a reference to the list that outlives the stack: 9 M of them would keep
        // growing the list with the pickle; the operation bound stops it.
        var pkl = new List<byte> { 0x80, 2, (byte)']' };
        for (int round = 0; round < 9000; round++)
        {
            pkl.Add((byte)'(');
            pkl.AddRange(Enumerable.Repeat((byte)'N', 1000));
            pkl.Add((byte)'e');
        }

        pkl.Add((byte)'.');
        var e = Assert.Throws<CimcException>(() => Load([.. pkl]));
        Assert.Contains($"more than {PickleMachine.MaxOps} pickle operations", e.Message);
    }

    [Fact]
    public void Every_prefix_of_a_valid_pickle_is_refused_as_truncated()
    {
        byte[] pkl = Bytes((byte)0x80, (byte)2, 'c', "collections\nOrderedDict\n", ')', 'R', 'q', (byte)0, '(', 'X', BitConverter.GetBytes(3), "key", 'J', BitConverter.GetBytes(-7), 'u', '.');
        Assert.IsType<PyDict>(Load(pkl));
        for (int n = 0; n < pkl.Length; n++)
        {
            Assert.Throws<CimcException>(() => Load(pkl[..n]));
        }
    }

    [Fact]
    public void Marks_nested_beyond_the_limit_are_refused()
    {
        byte[] pkl = [0x80, 2, .. Enumerable.Repeat((byte)'(', PickleMachine.MaxMarkDepth + 1), .. Enumerable.Repeat((byte)'t', PickleMachine.MaxMarkDepth + 1), (byte)'.'];
        var e = Assert.Throws<CimcException>(() => Load(pkl));
        Assert.Contains("nesting deeper", e.Message);
    }

    [Fact]
    public void Lists_nested_a_hundred_thousand_deep_load_without_recursion()
    {
        // ] ] a ] a ... : each new list is appended into the previous one's top.
        var body = new List<byte> { 0x80, 2, (byte)']' };
        for (int i = 0; i < 100_000; i++)
        {
            body.AddRange([(byte)']', (byte)'a']);
        }

        body.Add((byte)'.');
        Assert.IsType<List<object?>>(Load([.. body]));
    }

    [Fact]
    public void A_memo_index_that_was_never_stored_is_refused()
    {
        var e = Assert.Throws<CimcException>(() => Load(Bytes((byte)0x80, (byte)2, 'h', (byte)5, '.')));
        Assert.Contains("memo index 5", e.Message);
    }

    [Fact]
    public void A_string_longer_than_the_remaining_input_is_refused_before_allocating()
    {
        var clock = Stopwatch.StartNew();
        byte[] pkl = Bytes((byte)0x80, (byte)4, (byte)0x8d, BitConverter.GetBytes(long.MaxValue), "abc", '.');
        var e = Assert.Throws<CimcException>(() => Load(pkl));
        Assert.Contains("runs past the end", e.Message);
        Assert.True(clock.ElapsedMilliseconds < 500);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, (byte)'.' })]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'N', (byte)'.' })]
    [InlineData(new byte[] { 0x80, 2, (byte)'0' })]
    [InlineData(new byte[] { 0x80, 2, (byte)'i' })]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)')', (byte)'R', (byte)'.' })]
    [InlineData(new byte[] { 0x80, 9, (byte)'N', (byte)'.' })]
    public void Malformed_opcode_sequences_are_refused(byte[] pkl) => Assert.Throws<CimcException>(() => Load(pkl));

    [Fact]
    public void A_persistent_id_outside_an_archive_is_refused()
    {
        var e = Assert.Throws<CimcException>(() => Load(Bytes((byte)0x80, (byte)2, 'N', 'Q', '.')));
        Assert.Contains("persistent id", e.Message);
    }

    [Fact]
    public void A_tensor_claiming_a_trillion_elements_is_refused_without_allocating()
    {
        var storage = new StorageRef("0", TorchDType.Float32, 4);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<CimcException>(() => TensorRebuild.Validate(storage, 0, [1_000_000, 1_000_000], [1_000_000, 1], "t.pt"));
        Assert.Contains("exceeds the limit", e.Message);
        Assert.True(clock.ElapsedMilliseconds < 100);
    }

    [Fact]
    public void A_view_reaching_past_its_storage_is_refused()
    {
        var storage = new StorageRef("0", TorchDType.Float32, 6);
        var e = Assert.Throws<CimcException>(() => TensorRebuild.Validate(storage, 1, [2, 3], [3, 1], "t.pt"));
        Assert.Contains("reaches element 6", e.Message);
    }

    [Fact]
    public void A_strided_view_gathers_the_transposed_values()
    {
        var storage = new StorageRef("0", TorchDType.Float32, 6);
        byte[] bytes = [.. new float[] { 0, 1, 2, 3, 4, 5 }.SelectMany(BitConverter.GetBytes)];
        TorchTensor t = TensorRebuild.Validate(storage, 0, [3, 2], [1, 3], "t.pt");
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], TensorRebuild.ToFloat(t, bytes, "t.pt").Span.ToArray());
    }
}
