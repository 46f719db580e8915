/**
 * Topics between plugins. A plugin with the "emit" host function and the topic in its emit list
 * publishes; every plugin with the topic in its subscribe list gets the message in its on_topic
 * export. Delivery is asynchronous (the publisher is in the middle of a call, and a plugin is not
 * reentrant) and in publication order per subscriber. A message carries a hop count so that two
 * plugins answering each other cannot loop forever.
 */
import { CONTRACT } from '../contract.js';
import type { TopicMessage } from '../messages.js';

export type TopicListener = (message: TopicMessage, hops: number) => void;

export class TopicBus {
  readonly #listeners = new Map<string, Set<TopicListener>>();
  readonly maxHops: number;
  /** Told about messages dropped for exceeding maxHops. */
  onDrop: ((message: TopicMessage, hops: number) => void) | undefined;

  constructor(maxHops = CONTRACT.limits.topic_hops) {
    this.maxHops = maxHops;
  }

  subscribe(topic: string, listener: TopicListener): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** `hops`: 1 for a message published by a plugin outside any delivery. */
  publish(message: TopicMessage, hops = 1): void {
    if (hops > this.maxHops) {
      this.onDrop?.(message, hops);
      return;
    }
    const listeners = [...(this.#listeners.get(message.topic) ?? [])];
    setImmediate(() => {
      for (const listener of listeners) listener(message, hops);
    });
  }
}
