import Dispatch
import Foundation
import Synchronization

/// A fixed set of threads taking jobs from a bounded FIFO queue. `submit` blocks while the queue
/// is full, which is what keeps a backup's or restore's memory bounded.
final class WorkerPool: Sendable {
    typealias Job = @Sendable () -> Void

    private struct Queue {
        var items: [Job?] = []
        var head = 0
        mutating func push(_ job: Job?) { items.append(job) }
        mutating func pop() -> Job?? {
            guard head < items.count else { return nil }
            let job = items[head]
            items[head] = nil
            head += 1
            if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return .some(job)
        }
    }

    private let queue = Mutex(Queue())
    private let free: DispatchSemaphore
    private let available = DispatchSemaphore(value: 0)
    private let running = DispatchGroup()
    private let threadCount: Int

    init(name: String, threads: Int, capacity: Int) {
        threadCount = max(1, threads)
        free = DispatchSemaphore(value: max(1, capacity))
        for index in 0..<threadCount {
            running.enter()
            let thread = Thread { [self] in
                self.work()
                self.running.leave()
            }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    private func work() {
        while true {
            available.wait()
            guard let entry = queue.withLock({ $0.pop() }) else { continue }
            guard let job = entry else { return }  // nil job: shut down
            free.signal()
            job()
        }
    }

    /// Queues a job, waiting for room.
    func submit(_ job: @escaping Job) {
        free.wait()
        queue.withLock { $0.push(job) }
        available.signal()
    }

    /// Queues a job only if there is room right now.
    func trySubmit(_ job: @escaping Job) -> Bool {
        guard free.wait(timeout: .now()) == .success else { return false }
        queue.withLock { $0.push(job) }
        available.signal()
        return true
    }

    /// Runs every queued job, then stops the threads and waits for them.
    func finish() {
        for _ in 0..<threadCount {
            queue.withLock { $0.push(nil) }
            available.signal()
        }
        running.wait()
    }
}

/// Calls a progress handler at most ten times a second.
final class ProgressThrottle: Sendable {
    private let last = Mutex<UInt64>(0)

    func shouldReport(force: Bool = false) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        return last.withLock { last in
            if !force && now &- last < 100_000_000 { return false }
            last = now
            return true
        }
    }
}
