import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AppConfig } from './app-config.js';
import type { Config } from './config.schema.js';
import { loadConfig } from './load-config.js';

@Global()
@Module({})
export class ConfigModule {
  /** Provides `AppConfig` to every module; pass a config in tests, or read the environment. */
  static forRoot(config: Config = loadConfig()): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
