// A binary min-heap of virtual timers ordered by (timeMs, sequence). The sequence number breaks ties
// in creation order, which is what makes two runs with the same inputs fire timers identically.

/** One scheduled callback of a VirtualClock. */
export interface VirtualTimerEntry {
  readonly timeMs: number;
  readonly sequence: number;
  readonly callback: () => void;
  /** cancelled or already fired: either way it must never run (again) */
  finished: boolean;
}

function isBefore(left: VirtualTimerEntry, right: VirtualTimerEntry): boolean {
  return left.timeMs < right.timeMs || (left.timeMs === right.timeMs && left.sequence < right.sequence);
}

/** Min-heap of timer entries; cancelled entries are removed lazily by the owner. */
export class TimerHeap {
  #items: VirtualTimerEntry[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): VirtualTimerEntry | undefined {
    return this.#items[0];
  }

  push(entry: VirtualTimerEntry): void {
    const items = this.#items;
    items.push(entry);
    let index = items.length - 1;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!isBefore(entry, parent)) break;
      items[index] = parent;
      index = parentIndex;
    }
    items[index] = entry;
  }

  pop(): VirtualTimerEntry | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const leftIndex = 2 * index + 1;
      if (leftIndex >= items.length) break;
      const rightIndex = leftIndex + 1;
      const left = items[leftIndex]!;
      const right = items[rightIndex];
      const childIndex = right !== undefined && isBefore(right, left) ? rightIndex : leftIndex;
      const child = items[childIndex]!;
      if (!isBefore(child, last)) break;
      items[index] = child;
      index = childIndex;
    }
    items[index] = last;
    return top;
  }

  /** Rebuilds the heap without finished entries, so cancelled far-future timers do not pile up. */
  compact(): void {
    const live = this.#items.filter((entry) => !entry.finished);
    this.#items = [];
    for (const entry of live) this.push(entry);
  }
}
