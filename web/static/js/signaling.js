// Signaling: one WebSocket carrying JSON messages (docs/protocol.md).
// Reconnecting is the caller's business: a Signaling object lives for one connection.

export class Signaling {
  /**
   * Opens the WebSocket at url.
   * handlers.onOpen(), handlers.onMessage(msg) for each JSON object with a string "type",
   * handlers.onClose(event) once when the server or the network closes the socket
   * (not when close() is called here).
   */
  constructor(url, handlers) {
    this.handlers = handlers;
    this.closed = false;
    this.ws = new WebSocket(url);
    this.ws.addEventListener('open', () => {
      if (!this.closed) this.handlers.onOpen?.();
    });
    this.ws.addEventListener('message', (ev) => this.#receive(ev));
    // An 'error' event is always followed by 'close'; handle only the latter.
    this.ws.addEventListener('close', (ev) => {
      if (this.closed) return;
      this.closed = true;
      this.handlers.onClose?.(ev);
    });
  }

  #receive(ev) {
    if (this.closed || typeof ev.data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch (err) {
      console.warn('hoinghi: unreadable message from server', err);
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
      console.warn('hoinghi: message without type from server', msg);
      return;
    }
    this.handlers.onMessage(msg);
  }

  /** Sends msg as JSON; returns false (and sends nothing) when the socket is not open. */
  send(msg) {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Closes the socket without calling onClose. */
  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws.close(1000);
    } catch (err) {
      console.warn('hoinghi: closing the WebSocket', err);
    }
  }
}
