import { Sse, type MessageEvent } from '@nestjs/common';
import { ApiOperation, ApiProduces } from '@nestjs/swagger';
import { distinctUntilChanged, map, merge, type Observable } from 'rxjs';
import { AdminController } from '../admin-controller.decorator.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { LiveFeed } from './live-feed.service.js';

/**
 * GET /admin/live/events: server-sent events of the calls in progress, authenticated like every
 * admin route (Authorization header — the console reads it with fetch streaming, since
 * EventSource cannot send headers). Each `live` event is the whole list; a comment line every
 * 15 s keeps proxies from closing an idle stream.
 */
@AdminController('live', 'live')
export class LiveEventsController {
  constructor(private readonly feed: LiveFeed) {}

  @Sse('events')
  @RequireScope('read')
  @ApiOperation({ summary: 'Server-sent events: the list of calls in progress, sent when it changes (event `live`).' })
  @ApiProduces('text/event-stream')
  events(): Observable<MessageEvent> {
    const snapshots = this.feed.snapshots().pipe(
      map((items) => JSON.stringify({ items })),
      distinctUntilChanged(),
      map((data): MessageEvent => ({ type: 'live', data })),
    );
    return merge(snapshots, this.feed.heartbeats().pipe(map((): MessageEvent => ({ type: 'ping', data: '{}' }))));
  }
}
