import { formatDoctor, runDoctor } from '../doctor';
import type { Command } from './command';

export const doctorCommand: Command = {
  summary: 'check the machine: TensorFlow.js backends, a training step, versions, Jupyter',
  usage: 'deepfake-lab doctor [--json]',
  options: {},
  async run() {
    const report = await runDoctor();
    return { result: report, text: formatDoctor(report), exitCode: report.trainingCheck.ok ? 0 : 1 };
  },
};
