import { Controller, Get, NotFoundException, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { MetricsService } from './metrics.service.js';

/** GET /metrics: the Prometheus exposition of this process (api or worker). */
@ApiExcludeController()
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    if (!this.metrics.enabled) throw new NotFoundException('metrics are disabled (METRICS_ENABLED=false)');
    const body = await this.metrics.exposition();
    res.status(200).type(this.metrics.contentType).send(body);
  }
}
