import { describe, expect, it } from 'vitest';
import { redisAddress } from '../../../src/queue/redis-connection.js';

describe('redisAddress', () => {
  it('drops credentials and keeps the database, so a printed worker command reaches the same queue', () => {
    expect(redisAddress('redis://user:secret@10.0.0.5:6380/3')).toBe('redis://10.0.0.5:6380/3');
    expect(redisAddress('rediss://:token@redis.example.com')).toBe('rediss://redis.example.com:6379');
    expect(redisAddress('redis://127.0.0.1:6379/')).toBe('redis://127.0.0.1:6379');
  });
});
