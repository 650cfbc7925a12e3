import { formatDoctor, runDoctor } from './doctor-report';
import { defineCommand } from './command';

export const doctorCommand = defineCommand({
  summary: 'check the machine: TensorFlow.js backends, a training step, versions, Jupyter',
  options: {},
  async run() {
    const report = await runDoctor();
    return { result: report, text: formatDoctor(report), exitCode: report.trainingCheck.ok ? 0 : 1 };
  },
});
