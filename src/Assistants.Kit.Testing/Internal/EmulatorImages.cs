using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Assistants.Kit.Testing.Internal;

/// <summary>The PNG a scripted code interpreter step draws: a small bar chart, the same bytes every time.</summary>
internal static class EmulatorImages
{
    private const int Width = 160;
    private const int Height = 100;

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>A 160×100 bar chart (five bars on a white background with an axis), as PNG bytes.</summary>
    public static byte[] Chart()
    {
        int[] bars = [35, 60, 45, 80, 70];
        var pixels = new byte[Height * ((Width * 3) + 1)];
        for (var y = 0; y < Height; y++)
        {
            var row = y * ((Width * 3) + 1);
            pixels[row] = 0; // filter: none
            for (var x = 0; x < Width; x++)
            {
                var (r, g, b) = ((byte)255, (byte)255, (byte)255);
                if (x == 10 || y == Height - 10)
                {
                    (r, g, b) = (40, 40, 40);
                }
                else if (x > 15 && y < Height - 10)
                {
                    var slot = (x - 16) / 28;
                    var inBar = slot < bars.Length && (x - 16) % 28 < 20;
                    if (inBar && Height - 10 - y <= bars[slot])
                    {
                        (r, g, b) = (31, 119, 180);
                    }
                }

                var at = row + 1 + (x * 3);
                pixels[at] = r;
                pixels[at + 1] = g;
                pixels[at + 2] = b;
            }
        }

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        WriteChunk(png, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(pixels);
            }

            WriteChunk(png, "IDAT", compressed.ToArray());
        }

        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        stream.Write(number);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes.Concat(data))
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        BinaryPrimitives.WriteUInt32BigEndian(number, crc ^ 0xFFFFFFFFu);
        stream.Write(number);
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
