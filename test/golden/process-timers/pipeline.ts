import type { PipelineFactory } from 'sluice'
import { pipeline, sink, source, watermark } from 'sluice'

interface Event {
  key: string
  ts: number
}

// A keyed process function that closes a burst of activity after 5 s of event-time silence: each event
// moves the key's timer to ts + 5 s; when a timer fires it emits the burst and clears the state.
const build: PipelineFactory = ({ params }) =>
  pipeline('golden-process-timers')
    .from(source.jsonl<Event>(params.input, { eventTime: (e) => e.ts, watermark: watermark.boundedOutOfOrder('1s') }))
    .keyBy((e) => e.key)
    .process<{ key: string; count: number; last: number; at: number }>({
      processElement(e, ctx) {
        const count = ctx.state.value<number>('count')
        const timer = ctx.state.value<number>('timer')
        const previous = timer.get()
        if (previous !== undefined) ctx.timers.deleteEventTime(previous)
        count.set((count.get() ?? 0) + 1)
        ctx.state.value<number>('last').set(e.ts)
        timer.set(e.ts + 5000)
        ctx.timers.eventTime(e.ts + 5000)
      },
      onTimer(time, ctx) {
        ctx.emit({ key: ctx.key, count: ctx.state.value<number>('count').get() ?? 0, last: ctx.state.value<number>('last').get() ?? -1, at: time })
        ctx.state.value('count').clear()
        ctx.state.value('last').clear()
        ctx.state.value('timer').clear()
      },
    })
    .to(sink.jsonl(params.output))
export default build
