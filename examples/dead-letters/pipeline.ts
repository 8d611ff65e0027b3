// Dead letters and redrive after a fix: sensor readings to Celsius. A reading in Fahrenheit makes the
// conversion throw (until the fix is switched on), and a line cut short does not parse; both go to the
// dead-letter log instead of stopping the job, and are redriven once the pipeline can handle them.
//   npx sluice run examples/dead-letters/pipeline.ts
//   npx sluice dlq list examples/dead-letters/out/log
//   npx sluice dlq redrive examples/dead-letters/out/log --topic readings.dlq --step to-celsius --to examples/dead-letters/out/redrive.jsonl
//   npx sluice run examples/dead-letters/pipeline.ts --param input=redrive --param fahrenheit=convert
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, sink, source, type PipelineFactory } from 'sluice'

export interface Reading {
  sensor: string
  unit: 'C' | 'F'
  value: number
  ts: number
}

// Files beside this module, named relative to the current folder.
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

/** The conversion, before and after the fix: Fahrenheit was not supported at first. */
function toCelsius(convertFahrenheit: boolean) {
  return (r: Reading) => {
    if (r.unit === 'C') return { sensor: r.sensor, celsius: r.value, ts: r.ts }
    if (!convertFahrenheit) throw new Error(`unit '${r.unit}' is not supported`)
    return { sensor: r.sensor, celsius: Math.round(((r.value - 32) * 5) / 9 * 10) / 10, ts: r.ts }
  }
}

const build: PipelineFactory = ({ params }) => {
  const redrive = params.input === 'redrive'
  const p = pipeline('readings', { onError: 'dead-letter', deadLetter: { dir: here('out/log'), topic: 'readings.dlq' } })
  p.from(source.jsonl<Reading>(here(redrive ? 'out/redrive.jsonl' : 'data/readings.jsonl'), { eventTime: (r) => r.ts }))
    .map(toCelsius(params.fahrenheit === 'convert'))
    .id('to-celsius')
    .to(sink.jsonl(here(redrive ? 'out/celsius-redriven.jsonl' : 'out/celsius.jsonl')))
  return p
}
export default build
