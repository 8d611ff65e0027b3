import assert from 'node:assert/strict'
import { test } from 'node:test'
import { retryTransient } from './retry.ts'

function kafkaError(type: string, retriable: boolean): Error {
  return Object.assign(new Error(type), { type, retriable })
}

test('a transient coordinator error is asked again until the answer comes', async () => {
  let calls = 0
  const got = await retryTransient(async () => {
    if (++calls < 3) throw kafkaError('COORDINATOR_LOAD_IN_PROGRESS', true)
    return 'done'
  })
  assert.equal(got, 'done')
  assert.equal(calls, 3)
})

test('any other error is thrown at once, without a retry', async () => {
  let calls = 0
  await assert.rejects(
    retryTransient(async () => {
      calls++
      throw kafkaError('TOPIC_AUTHORIZATION_FAILED', false)
    }),
    /TOPIC_AUTHORIZATION_FAILED/,
  )
  assert.equal(calls, 1)
})

test('a caller-chosen test of what is transient, with a step before each retry (a leader that moved: metadata refreshed)', async () => {
  const order: string[] = []
  const got = await retryTransient(
    async () => {
      order.push('ask')
      if (order.filter((x) => x === 'ask').length < 3) throw kafkaError('NOT_LEADER_FOR_PARTITION', true)
      return 7
    },
    { transient: (e) => (e as { retriable?: boolean }).retriable === true, between: async () => void order.push('refresh') },
  )
  assert.equal(got, 7)
  assert.deepEqual(order, ['ask', 'refresh', 'ask', 'refresh', 'ask'])
  await assert.rejects(retryTransient(async () => Promise.reject(kafkaError('NOT_LEADER_FOR_PARTITION', true)), { transient: () => false }), /NOT_LEADER/)
})
