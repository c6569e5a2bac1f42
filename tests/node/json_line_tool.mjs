// A test tool that answers one JSON line per JSON line it reads (sigv4_sign, azure_sign: our
// signers, held against the SDKs' own by e2e.sigv4 and e2e.azure_sign).

import { spawn } from 'node:child_process';
import readline from 'node:readline';

export class JsonLineTool {
  constructor(path) {
    this.child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = [];
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.pending.shift()(JSON.parse(line)));
  }

  /** The tool's answer to `request`. */
  sign(request) {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  close() { this.child.stdin.end(); }
}
