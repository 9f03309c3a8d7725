"""Coroutines under asyncio: await chains, gather, async generators."""
import asyncio


async def leaf(i):
    await asyncio.sleep(0)
    return i * 2


async def middle(i):
    a = await leaf(i)
    b = await leaf(i + 1)
    return a + b


async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def consume():
    total = 0
    async for value in ticker(4):
        total += value
    return total


async def failing():
    await asyncio.sleep(0)
    raise KeyError("missing")


async def guarded():
    try:
        await failing()
    except KeyError:
        return -1


async def top():
    results = await asyncio.gather(middle(1), middle(2), middle(3))
    results.append(await consume())
    results.append(await guarded())
    results.append([await leaf(i) for i in range(3)])
    return results


def main():
    return asyncio.run(top())


if __name__ == "__main__":
    print(main())
