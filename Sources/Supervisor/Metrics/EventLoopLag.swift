import NIOCore

/// How long a task submitted now waits before an event loop runs it: the worst over a group's
/// loops, in microseconds. A loop busy with a long callback (or starved of CPU) shows here first.
public enum EventLoopLag {
    public static func measure(_ group: any EventLoopGroup) async -> Int {
        var worst = 0
        for loop in group.makeIterator() {
            let submitted = NIODeadline.now()
            if let ran = try? await loop.submit({ NIODeadline.now() }).get() {
                worst = max(worst, Int((ran - submitted).nanoseconds / 1000))
            }
        }
        return worst
    }
}
