// A route shaped like /twilio/gather (form body, a guard computing the HMAC-SHA1 of the URL and
// sorted params, an XML string back) on Nest with either HTTP adapter. Started by run.mjs.
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Controller, Post, Body, Query, Header, HttpCode, Module, UseGuards, Injectable } from '@nestjs/common';
import express from 'express';

class Guard { canActivate(ctx) { const req = ctx.switchToHttp().getRequest(); const b = req.body; const data = 'https://x.test/twilio/gather?step=1' + Object.keys(b).sort().map((k) => k + b[k]).join(''); createHmac('sha1', 'token').update(data).digest('base64'); return true; } }
Injectable()(Guard);
class C { gather(body, step) { return `<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech" action="/twilio/gather?step=${step}"><Say>You are through to billing ${body.CallSid}</Say></Gather></Response>`; } }
Reflect.decorate([Post('gather'), HttpCode(200), Header('Content-Type', 'text/xml')], C.prototype, 'gather', Object.getOwnPropertyDescriptor(C.prototype, 'gather'));
Body()(C.prototype, 'gather', 0); Query('step')(C.prototype, 'gather', 1);
const Ctl = Reflect.decorate([Controller('twilio'), UseGuards(Guard)], C);
class M {}
const Mod = Reflect.decorate([Module({ controllers: [Ctl], providers: [Guard] })], M);
const kind = process.argv[2];
let app;
if (kind === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  app = await NestFactory.create(Mod, new FastifyAdapter(), { logger: false });

} else {
  app = await NestFactory.create(Mod, { logger: false, bodyParser: false });
  app.use(express.urlencoded({ extended: false }));
}
await app.listen(Number(process.argv[3]), '127.0.0.1');
process.send?.('ready');
