import type { RouteGuards } from '../../http/api-router';
import { ApiRouter } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import {
  adminLoginBody,
  authResult,
  captchaResult,
  changePasswordBody,
  loginBody,
  registerBody,
  smsCodeBody,
  smsCodeResult,
  adminToken,
} from './auth.schemas';
import { adminLogin, changePassword, login, register, type AuthDeps } from './auth.service';
import { issueCaptcha } from './captcha.service';
import { issueSmsCode } from './sms-code.service';

type Deps = Pick<Runtime, 'config' | 'redis' | 'sessions' | 'cipher' | 'ports'>;

const authDeps = (d: Deps): AuthDeps => ({
  redis: d.redis,
  config: d.config,
  sessions: d.sessions,
  cipher: d.cipher,
  sms: d.ports.sms,
});

/** Captcha, SMS codes, register, login, logout, password change (seed 000 items 1-2), admin login. */
export function authRoutes(deps: Deps, guards: RouteGuards): ApiRouter {
  const showDev = deps.config.nodeEnv !== 'production';
  const a = authDeps(deps);
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/captcha',
        summary: 'Image captcha (SVG); its answer is checked once, within CAPTCHA_TTL_SECONDS',
        tags: ['auth'],
        auth: 'none',
        responses: { 200: { description: 'captcha', schema: captchaResult } },
      },
      async (ctx) => {
        const c = await issueCaptcha(deps.redis, deps.config.auth.captchaTtlSeconds);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          captchaId: c.captchaId,
          svg: c.svg,
          ...(showDev ? { devAnswer: c.answer } : {}),
        };
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/sms-codes',
        summary:
          'Send a one-time SMS code (captcha first; limited per mobile and per IP); the same answer whether or not the mobile has an account',
        tags: ['auth'],
        auth: 'none',
        request: { body: smsCodeBody },
        responses: {
          201: { description: 'sent', schema: smsCodeResult },
          400: { description: 'CAPTCHA_INVALID or VALIDATION_ERROR' },
          429: { description: 'RATE_LIMITED' },
        },
      },
      async (ctx) => {
        const body = ctx.state.body as {
          mobile: string;
          captchaId: string;
          captchaText: string;
          purpose: 'register' | 'login';
        };
        const res = await issueSmsCode({ ...a, sms: deps.ports.sms }, { ...body, ip: ctx.ip });
        ctx.status = 201;
        ctx.body = { expiresIn: res.expiresIn, ...(showDev ? { devCode: res.code } : {}) };
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/auth/register',
        summary: 'Register with an SMS code (purpose register) and a password',
        tags: ['auth'],
        auth: 'none',
        request: { body: registerBody },
        responses: {
          201: { description: 'registered and logged in', schema: authResult },
          409: { description: 'MOBILE_ALREADY_REGISTERED (only with a valid SMS code)' },
        },
      },
      async (ctx) => {
        ctx.status = 201;
        ctx.body = await register(a, ctx.state.body);
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/auth/login',
        summary: 'Log in with {mobile, password} or {mobile, smsCode}; failures are throttled',
        tags: ['auth'],
        auth: 'none',
        request: { body: loginBody },
        responses: {
          200: { description: 'logged in', schema: authResult },
          401: { description: 'INVALID_CREDENTIALS' },
          429: { description: 'RATE_LIMITED' },
        },
      },
      async (ctx) => {
        ctx.body = await login(a, { ...ctx.state.body, ip: ctx.ip });
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/auth/logout',
        summary: 'End this session',
        tags: ['auth'],
        auth: 'investor',
        responses: { 204: { description: 'logged out' } },
      },
      async (ctx) => {
        await deps.sessions.end(ctx.state.token);
        ctx.status = 204;
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/me/password',
        summary:
          'Change the password; every session of the investor ends; wrong old passwords are throttled with logins',
        tags: ['auth'],
        auth: 'investor',
        request: { body: changePasswordBody },
        responses: {
          204: { description: 'changed; log in again' },
          401: { description: 'INVALID_CREDENTIALS' },
          429: { description: 'RATE_LIMITED (wrong passwords count against the login throttle)' },
        },
      },
      async (ctx) => {
        await changePassword(a, ctx.state.session.userId, ctx.state.body);
        ctx.status = 204;
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/auth/login',
        summary: 'Admin login (ADMIN_USER / ADMIN_PASSWORD) → admin token',
        tags: ['admin'],
        auth: 'none',
        request: { body: adminLoginBody },
        responses: {
          200: { description: 'token', schema: adminToken },
          401: { description: 'INVALID_CREDENTIALS' },
          429: { description: 'RATE_LIMITED: too many failed logins from this address' },
        },
      },
      async (ctx) => {
        ctx.body = await adminLogin(a, { ...ctx.state.body, ip: ctx.ip });
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/auth/logout',
        summary: 'End this admin session',
        tags: ['admin'],
        auth: 'admin',
        responses: { 204: { description: 'logged out' } },
      },
      async (ctx) => {
        await deps.sessions.end(ctx.state.token);
        ctx.status = 204;
      },
    );
}
