// libFuzzer target (Deploy/fuzz.sh): the text port's line decoder on arbitrary bytes, arriving in chunks.
// Compiled into one module with Wire's sources, so it calls them without an import.
import NIOCore

/// The first byte sets the chunk size; the rest is fed in chunks of that size. The lines must be the
/// same as when everything arrives at once, each valid UTF-8, within the maximum, without a newline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextLineDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let chunk = Int(first % 64) + 1
    let maximum = 256

    func lines(feedingBy size: Int) -> (lines: [ByteBuffer], failed: Bool) {
        var decoder = TextLineDecoder(maximumLineLength: maximum)
        var buffer = ByteBuffer()
        var lines: [ByteBuffer] = []
        var offset = 1
        while offset < input.count {
            let end = min(input.count, offset + size)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: input[offset..<end]))
            offset = end
            do {
                while let line = try decoder.nextLine(from: &buffer) { lines.append(line) }
            } catch {
                return (lines, true)
            }
        }
        return (lines, false)
    }

    let chunked = lines(feedingBy: chunk)
    let whole = lines(feedingBy: input.count)
    for line in chunked.lines {
        precondition(line.readableBytes <= maximum, "line above the maximum")
        precondition(!line.readableBytesView.contains(UInt8(ascii: "\n")), "newline inside a line")
        precondition(String(validating: line.readableBytesView, as: UTF8.self) != nil, "invalid UTF-8 passed")
    }
    if !chunked.failed && !whole.failed {
        precondition(chunked.lines == whole.lines, "lines depend on how the bytes arrive")
    }
    return 0
}
